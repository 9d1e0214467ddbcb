// SHA-256 against the FIPS 180-4 vectors; the tiny SD1.5 checkpoint generator against
// tiny-checkpoint.md's test vectors and every checksum of tests/fixtures/tiny-sd15.json
// (per tensor, totals and whole files, F32 and F16).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "model/safetensors.h"
#include "model/sd15_config.h"
#include "model/sha256.h"
#include "model/tiny_sd15.h"
#include "tensor/half.h"

namespace vkdream::model {
namespace {

// ---------------------------------------------------------------------------------------------
class Sha256Modes : public ::testing::TestWithParam<bool> {  // param: force the portable code
 protected:
  void SetUp() override { sha256_force_portable(GetParam()); }
  void TearDown() override { sha256_force_portable(false); }
};
INSTANTIATE_TEST_SUITE_P(Sha256, Sha256Modes, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Portable" : "Default"; });

TEST_P(Sha256Modes, StandardVectors) {
  EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex(two.data(), two.size()), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string four =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  EXPECT_EQ(sha256_hex(four.data(), four.size()), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million.data(), million.size()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_P(Sha256Modes, StreamingEqualsOneShotAtEveryBlockBoundary) {
  std::string data(300, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = char(i * 7 + 3);
  for (size_t len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 300}) {
    std::string one = sha256_hex(data.data(), len);
    for (size_t cut = 0; cut <= len; cut += 13) {
      Sha256 h;
      h.update(data.data(), cut);
      h.update(data.data() + cut, len - cut);
      EXPECT_EQ(h.hex_digest(), one) << "len " << len << " cut " << cut;
    }
  }
  Sha256 h;
  h.update(std::string("ab"));
  h.hex_digest();
  h.reset();
  h.update(std::string("abc"));
  EXPECT_EQ(h.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// ---------------------------------------------------------------------------------------------
TEST(TinySD15, GeneratorTestVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
  const uint64_t seq[] = {6457827717110365317ull, 3203168211198807973ull, 9817491932198370423ull,
                          4593380528125082431ull, 16408922859458223821ull};
  for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(splitmix64_output(1234567, i), seq[i]) << i;
  EXPECT_EQ(splitmix64_output(0, 0), 0xe220a8397b1dcdafull);
}

TEST(TinySD15, ScaleTable) {
  struct Row {
    SD15Role role;
    int64_t D;
    int e;
    int64_t K;
  };
  const Row rows[] = {{SD15Role::Bias, 2500, 14, 567},     {SD15Role::NormWeight, 400, 10, 88},
                      {SD15Role::TokenEmbedding, 1, 9, 886}, {SD15Role::PositionEmbedding, 4, 10, 886},
                      {SD15Role::Weight, 8, 10, 627},        {SD15Role::Weight, 27, 11, 682},
                      {SD15Role::Weight, 32, 11, 627},       {SD15Role::Weight, 36, 11, 591},
                      {SD15Role::Weight, 64, 12, 886},       {SD15Role::Weight, 96, 12, 724},
                      {SD15Role::Weight, 128, 12, 627},      {SD15Role::Weight, 192, 12, 512},
                      {SD15Role::Weight, 256, 13, 886},      {SD15Role::Weight, 288, 13, 836},
                      {SD15Role::Weight, 512, 13, 627},      {SD15Role::Weight, 576, 13, 591},
                      {SD15Role::Weight, 864, 14, 965},      {SD15Role::Weight, 1152, 14, 836},
                      {SD15Role::Weight, 1728, 14, 682},     {SD15Role::Weight, 2304, 14, 591},
                      {SD15Role::Weight, 4608, 15, 836}};
  for (const auto& r : rows) {
    TinyScale s = tiny_scale_for(r.role, r.D);
    EXPECT_EQ(s.e, r.e) << "D " << r.D;
    EXPECT_EQ(s.K, r.K) << "D " << r.D;
    EXPECT_EQ(s.c, r.role == SD15Role::NormWeight ? 1 : 0);
  }
}

SD15Tensor tensor_named(const std::string& name) {
  for (auto& t : tiny_sd15_tensors())
    if (t.name == name) return t;
  ADD_FAILURE() << "no tensor " << name;
  return {};
}

uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(TinySD15, WorkedElements) {
  struct Row {
    const char* name;
    size_t i;
    uint64_t h0;
    int e;
    int64_t K;
    uint64_t x;
    int64_t k;
    uint32_t f32;
    uint16_t f16;
  };
  const Row rows[] = {
      {"model.diffusion_model.input_blocks.0.0.weight", 0, 0x8c8ab0aac9d49768ull, 11, 591, 0xa9a5d1413f7769f0ull, 192,
       0x3dc00000, 0x2e00},
      {"model.diffusion_model.input_blocks.0.0.weight", 1, 0x8c8ab0aac9d49768ull, 11, 591, 0x0359f602e5ffd05cull, -576,
       0xbe900000, 0xb480},
      {"model.diffusion_model.input_blocks.0.0.bias", 0, 0x77bac8747f013f9dull, 14, 567, 0xec28232fcc92cd07ull, 480,
       0x3cf00000, 0x2780},
      {"model.diffusion_model.out.0.weight", 0, 0xe12b56be79dcc3b5ull, 10, 88, 0x29fca0b9263f6925ull, -59, 0x3f714000,
       0x3b8a},
      {"first_stage_model.decoder.conv_out.weight", 1, 0xd847eb5c9647928full, 14, 836, 0x0a450e2af5d403baull, -769,
       0xbd404000, 0xaa02},
      {"cond_stage_model.transformer.text_model.embeddings.token_embedding.weight", 0, 0x85a2a43fe8544e1full, 9, 886,
       0xa784d4c23d049df4ull, 274, 0x3f090000, 0x3848},
  };
  for (const auto& r : rows) {
    SD15Tensor t = tensor_named(r.name);
    EXPECT_EQ(fnv1a64(r.name), r.h0) << r.name;
    TinyScale s = tiny_scale(t);
    EXPECT_EQ(s.e, r.e) << r.name;
    EXPECT_EQ(s.K, r.K) << r.name;
    EXPECT_EQ(splitmix64_output(r.h0, r.i), r.x) << r.name;
    EXPECT_EQ(tiny_k(r.x, r.K), r.k) << r.name;
    std::vector<float> v = tiny_sd15_values(t);
    EXPECT_EQ(f32_bits(v[r.i]), r.f32) << r.name << " [" << r.i << "]";
    EXPECT_EQ(float_to_half(v[r.i]), r.f16) << r.name << " [" << r.i << "]";
  }
}

TEST(TinySD15, ScheduleSpotValues) {
  auto sched = tiny_sd15_values(tensor_named("alphas_cumprod"));
  EXPECT_EQ(f32_bits(sched[0]), 0x3f7fc84bu);
  EXPECT_EQ(f32_bits(sched[999]), 0x3b98b3bdu);
  EXPECT_EQ(f32_bits(tiny_sd15_values(tensor_named("log_one_minus_alphas_cumprod"))[0]), 0xc0e23fb0u);
  auto coef2 = tiny_sd15_values(tensor_named("posterior_mean_coef2"));
  EXPECT_EQ(f32_bits(coef2[338]), 0x3f7eb000u);  // an exact float16 tie: rounds to even
  EXPECT_EQ(float_to_half(coef2[338]), 0x3bf6);
}

// ---------------------------------------------------------------------------------------------
// tiny-sd15.json
struct Fixture {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  Fixture() {
    std::string path = std::string(VKDREAM_FIXTURES_DIR) + "/tiny-sd15.json";
    auto err = parser.load(path).get(root);
    if (err) throw std::runtime_error("cannot read " + path + ": " + simdjson::error_message(err));
  }
  simdjson::dom::object tensors() { return root["tensors"].get_object().value(); }
  std::string str(simdjson::dom::element e) { return std::string(std::string_view(e.get_string().value())); }
};

TEST(TinySD15, LayoutMatchesTheFixture) {
  Fixture fx;
  auto ts = tiny_sd15_tensors();
  auto obj = fx.tensors();
  ASSERT_EQ(ts.size(), obj.size());
  ASSERT_EQ(ts.size(), 983u);
  size_t i = 0;
  for (auto field : obj) {  // the fixture lists tensors sorted by name, as the files store them
    const SD15Tensor& t = ts[i++];
    std::string name(field.key);
    ASSERT_EQ(t.name, name);
    std::vector<int64_t> shape;
    for (auto d : field.value["shape"].get_array()) shape.push_back(int64_t(d.get_int64()));
    EXPECT_EQ(t.shape, shape) << name;
    EXPECT_EQ(sd15_role_name(t.role), fx.str(field.value["role"])) << name;
    if (t.role == SD15Role::PositionIds || t.role == SD15Role::Schedule) continue;
    TinyScale s = tiny_scale(t);
    EXPECT_EQ(s.D, int64_t(field.value["D"].get_int64())) << name;
    EXPECT_EQ(s.c, int64_t(field.value["c"].get_int64())) << name;
    EXPECT_EQ(s.e, int64_t(field.value["e"].get_int64())) << name;
    EXPECT_EQ(s.K, int64_t(field.value["K"].get_int64())) << name;
  }
}

// Writes both files once for the whole suite (about a second).
class TinySD15Files : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(::testing::TempDir() + "vkdream_tiny_sd15_" + std::to_string(::getpid()));
    paths_ = new TinySD15Paths(write_tiny_sd15(*dir_));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete paths_;
  }
  static std::string* dir_;
  static TinySD15Paths* paths_;
};
std::string* TinySD15Files::dir_ = nullptr;
TinySD15Paths* TinySD15Files::paths_ = nullptr;

std::string file_sha256(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (f.read(buf.data(), std::streamsize(buf.size())) || f.gcount() > 0) h.update(buf.data(), size_t(f.gcount()));
  return h.hex_digest();
}

TEST_F(TinySD15Files, FilesAreByteIdenticalToTheReference) {
  Fixture fx;
  for (auto [path, key, bytes] : {std::tuple{paths_->f32, kTinySD15F32Name, kTinySD15F32Bytes},
                                  std::tuple{paths_->f16, kTinySD15F16Name, kTinySD15F16Bytes}}) {
    auto entry = fx.root["files"][key];
    EXPECT_EQ(std::filesystem::file_size(path), bytes) << path;
    EXPECT_EQ(uint64_t(entry["bytes"].get_int64()), bytes);
    EXPECT_EQ(file_sha256(path), fx.str(entry["sha256"])) << path;
  }
}

TEST_F(TinySD15Files, EveryTensorAndTotalMatchesItsChecksum) {
  Fixture fx;
  auto obj = fx.tensors();
  for (bool f16 : {false, true}) {
    auto file = SafetensorsFile::open(f16 ? paths_->f16 : paths_->f32);
    ASSERT_EQ(file->tensors().size(), 983u);
    EXPECT_EQ(file->metadata().at("format"), "pt");
    EXPECT_EQ(file->metadata().at("description"), kTinySD15Description);
    Sha256 total;
    size_t checked = 0;
    for (const TensorInfo& t : file->tensors()) {  // data order = name order
      auto expect = obj[t.name];
      ASSERT_FALSE(expect.error()) << t.name;
      StDType want = t.name == "cond_stage_model.transformer.text_model.embeddings.position_ids" ? StDType::I64
                     : f16                                                                        ? StDType::F16
                                                                                                  : StDType::F32;
      EXPECT_EQ(t.dtype, want) << t.name;
      const uint8_t* d = file->data(t);
      size_t n = size_t(t.end - t.begin);
      EXPECT_EQ(sha256_hex(d, n), fx.str(expect.value()[f16 ? "sha256_f16" : "sha256_f32"])) << t.name;
      total.update(d, n);
      ++checked;
    }
    EXPECT_EQ(checked, 983u);
    EXPECT_EQ(total.hex_digest(), fx.str(fx.root["checksums"][f16 ? "total_sha256_f16" : "total_sha256_f32"]));
  }
}

TEST_F(TinySD15Files, DetectsAsTheFixtureArchitecture) {
  Fixture fx;
  auto file = SafetensorsFile::open(paths_->f16);
  SD15Config cfg = detect_sd15_config(*file, SD15DetectOptions{.clip_num_heads = 1});
  EXPECT_EQ(cfg, tiny_sd15_config());
  auto u = fx.root["unet"], v = fx.root["vae"], c = fx.root["clip"];
  auto ints = [](simdjson::dom::element a) {
    std::vector<int> out;
    for (auto x : a.get_array()) out.push_back(int(x.get_int64()));
    return out;
  };
  EXPECT_EQ(cfg.unet.in_channels, int(u["in_channels"].get_int64()));
  EXPECT_EQ(cfg.unet.out_channels, int(u["out_channels"].get_int64()));
  EXPECT_EQ(cfg.unet.model_channels, int(u["model_channels"].get_int64()));
  EXPECT_EQ(cfg.unet.channel_mult, ints(u["channel_mult"]));
  EXPECT_EQ(cfg.unet.num_res_blocks, int(u["num_res_blocks"].get_int64()));
  EXPECT_EQ(cfg.unet.attention_levels, ints(u["attention_levels"]));
  EXPECT_EQ(cfg.unet.transformer_depth, int(u["transformer_depth"].get_int64()));
  EXPECT_EQ(cfg.unet.num_heads, int(u["num_heads"].get_int64()));
  EXPECT_EQ(cfg.unet.context_dim, int(u["context_dim"].get_int64()));
  EXPECT_EQ(cfg.unet.use_linear_in_transformer, bool(u["use_linear_in_transformer"].get_bool()));
  EXPECT_EQ(cfg.unet.time_embed_dim, int(u["time_embed_dim"].get_int64()));
  EXPECT_EQ(cfg.vae.ch, int(v["ch"].get_int64()));
  EXPECT_EQ(cfg.vae.ch_mult, ints(v["ch_mult"]));
  EXPECT_EQ(cfg.vae.num_res_blocks, int(v["num_res_blocks"].get_int64()));
  EXPECT_EQ(cfg.vae.z_channels, int(v["z_channels"].get_int64()));
  EXPECT_EQ(cfg.vae.embed_dim, int(v["embed_dim"].get_int64()));
  EXPECT_EQ(cfg.vae.double_z, bool(v["double_z"].get_bool()));
  EXPECT_EQ(cfg.vae.in_channels, int(v["in_channels"].get_int64()));
  EXPECT_EQ(cfg.vae.out_ch, int(v["out_ch"].get_int64()));
  EXPECT_EQ(cfg.clip.vocab_size, int(c["vocab_size"].get_int64()));
  EXPECT_EQ(cfg.clip.max_positions, int(c["max_position_embeddings"].get_int64()));
  EXPECT_EQ(cfg.clip.hidden_size, int(c["hidden_size"].get_int64()));
  EXPECT_EQ(cfg.clip.num_layers, int(c["num_hidden_layers"].get_int64()));
  EXPECT_EQ(cfg.clip.num_heads, int(c["num_attention_heads"].get_int64()));
  EXPECT_EQ(cfg.clip.intermediate_size, int(c["intermediate_size"].get_int64()));
  EXPECT_EQ(cfg.unet_dtype, StDType::F16);
  EXPECT_TRUE(cfg.has_position_ids);
  EXPECT_TRUE(cfg.has_schedule_buffers);
  EXPECT_TRUE(cfg.ignored.empty());
  // Without the override the CLIP head rule (width / 64) gives the same single head.
  EXPECT_EQ(detect_sd15_config(*SafetensorsFile::open(paths_->f32)), tiny_sd15_config());
}

TEST_F(TinySD15Files, InMemoryImagesAndTensorBytesAgreeWithTheFiles) {
  auto file = SafetensorsFile::open(paths_->f16);
  auto img = tiny_sd15_file_image(TinyPrecision::F16);
  ASSERT_EQ(img.size(), kTinySD15F16Bytes);
  std::ifstream f(paths_->f16, std::ios::binary);
  std::vector<uint8_t> disk(img.size());
  f.read(reinterpret_cast<char*>(disk.data()), std::streamsize(disk.size()));
  EXPECT_TRUE(img == disk);
  for (const char* name : {"model.diffusion_model.out.2.weight", "betas", "first_stage_model.quant_conv.bias",
                           "cond_stage_model.transformer.text_model.embeddings.position_ids"}) {
    SD15Tensor t = tensor_named(name);
    const TensorInfo* info = file->find(name);
    ASSERT_NE(info, nullptr);
    auto bytes = tiny_sd15_tensor_bytes(t, TinyPrecision::F16);
    ASSERT_EQ(bytes.size(), info->end - info->begin) << name;
    EXPECT_EQ(std::memcmp(bytes.data(), file->data(*info), bytes.size()), 0) << name;
  }
}

TEST_F(TinySD15Files, EnsureKeepsGoodFilesAndTruncatedFilesAreErrors) {
  auto before = std::filesystem::last_write_time(paths_->f32);
  auto again = ensure_tiny_sd15(*dir_);
  EXPECT_EQ(again.f32, paths_->f32);
  EXPECT_EQ(std::filesystem::last_write_time(paths_->f32), before);

  std::string cut = *dir_ + "/truncated.safetensors";
  std::filesystem::copy_file(paths_->f16, cut);
  std::filesystem::resize_file(cut, kTinySD15F16Bytes - 1000);
  try {
    SafetensorsFile::open(cut);
    FAIL() << "a truncated checkpoint opened";
  } catch (const SafetensorsError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated.safetensors"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vkdream::model
