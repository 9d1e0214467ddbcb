// The safetensors reader: a valid file round-trips; every hostile-header rule of reliability.md
// ("Files the server reads") is a clear error naming the file and the rule.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "model/safetensors.h"
#include "tensor/tensor.h"

namespace vkdream::model {
namespace {

std::vector<uint8_t> file_image(const std::string& header, size_t data_bytes, uint64_t declared_len = UINT64_MAX) {
  uint64_t n = declared_len == UINT64_MAX ? header.size() : declared_len;
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

std::string error_of(const std::vector<uint8_t>& img) {
  try {
    SafetensorsFile::from_memory(img.data(), img.size(), "hostile.safetensors");
  } catch (const SafetensorsError& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, ReadsTensorsMetadataAndConvertsDtypes) {
  std::string h =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"c":{"dtype":"BF16","shape":[1],"data_offsets":[12,14]}})";
  auto img = file_image(h, 14);
  uint8_t* d = img.data() + 8 + h.size();
  float a[2] = {1.5f, -2.0f};
  std::memcpy(d, a, 8);
  uint16_t b[2] = {float_to_half(0.25f), float_to_half(3.0f)};
  std::memcpy(d + 8, b, 4);
  uint16_t c = 0x3f80;  // bf16 1.0
  std::memcpy(d + 12, &c, 2);
  auto f = SafetensorsFile::from_memory(img.data(), img.size(), "ok.safetensors");
  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->tensors()[0].name, "a");  // in data order
  EXPECT_EQ(f->metadata().at("format"), "pt");
  EXPECT_EQ(f->to_float(*f->find("a")), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(f->to_float(*f->find("b")), (std::vector<float>{0.25f, 3.0f}));
  EXPECT_EQ(f->to_float(*f->find("c")), (std::vector<float>{1.0f}));
  EXPECT_EQ(f->find("missing"), nullptr);
}

TEST(Safetensors, OpensAFileFromDisk) {
  std::string h = R"({"w":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]}})";
  auto img = file_image(h, 4);
  std::string path = ::testing::TempDir() + "vkdream_st_test.safetensors";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(img.data()), std::streamsize(img.size()));
  auto f = SafetensorsFile::open(path);
  EXPECT_EQ(f->tensors().size(), 1u);
  std::remove(path.c_str());
  try {
    SafetensorsFile::open(path);
    FAIL();
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}

struct Hostile {
  const char* what;
  std::vector<uint8_t> image;
  const char* expect;  // a substring of the error
};

std::vector<Hostile> hostile_cases() {
  const std::string one = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  return {
      {"too short", {1, 2, 3}, "shorter than the 8-byte"},
      {"header over 100 MB", file_image("{}", 0, 100000001ull), "100 MB"},
      {"header past end", file_image(one, 8, one.size() + 100), "past the end"},
      {"not json", file_image("{not json", 0), "not valid UTF-8 JSON"},
      {"invalid utf-8", file_image("{\"\xff\xfe\":{}}", 0), "UTF-8"},
      {"not an object", file_image("[1,2]", 0), "not a JSON object"},
      {"unknown dtype", file_image(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8), "unknown dtype"},
      {"negative dim", file_image(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "negative"},
      {"shape overflow",
       file_image(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8), "overflows"},
      {"size mismatch", file_image(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "need 12"},
      {"end before begin", file_image(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8), "ends before"},
      {"outside file", file_image(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8), "outside the file"},
      {"gap", file_image(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "gap before"},
      {"overlap",
       file_image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
       "overlaps"},
      {"trailing bytes", file_image(one, 12), "tensors end at 8"},
      {"duplicate name",
       file_image(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
       "duplicate tensor name 'w'"},
      {"offsets not ints", file_image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":["0",8]}})", 8), "data offset"},
      {"missing offsets", file_image(R"({"w":{"dtype":"F32","shape":[2]}})", 8), "data_offsets"},
      {"metadata not strings", file_image(R"({"__metadata__":{"a":1}})", 0), "not a string"},
  };
}

TEST(Safetensors, HostileHeadersAreClearErrors) {
  for (auto& c : hostile_cases()) {
    std::string err = error_of(c.image);
    EXPECT_NE(err.find("hostile.safetensors"), std::string::npos) << c.what << ": " << err;
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.what << ": '" << err << "' lacks '" << c.expect << "'";
  }
}

TEST(Safetensors, UnsupportedDtypeConversionIsAnError) {
  std::string h = R"({"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})";
  auto img = file_image(h, 8);
  auto f = SafetensorsFile::from_memory(img.data(), img.size(), "ints.safetensors");
  EXPECT_THROW(f->to_float(*f->find("i")), SafetensorsError);
}

}  // namespace
}  // namespace vkdream::model
