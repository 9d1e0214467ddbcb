#include "media/png_writer.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <stdexcept>

// stb_image_write compiled privately into this file, so its symbols never clash with another copy.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace vkdream::media {
namespace {

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[n] = c;
  }
  return t;
}
constexpr auto kCrcTable = make_crc_table();

constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(uint8_t(v >> 24));
  out.push_back(uint8_t(v >> 16));
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

bool is_ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

void check_keyword(const std::string& k) {
  if (k.empty() || k.size() > 79) throw std::invalid_argument("PNG text keyword must be 1..79 bytes: '" + k + "'");
  for (unsigned char c : k)
    if (c < 32 || (c > 126 && c < 161)) throw std::invalid_argument("PNG text keyword has a forbidden byte: '" + k + "'");
  if (k.front() == ' ' || k.back() == ' ' || k.find("  ") != std::string::npos)
    throw std::invalid_argument("PNG text keyword has leading, trailing or double spaces: '" + k + "'");
}

// One chunk: length, type, data, CRC over type + data.
void append_chunk(std::vector<uint8_t>& out, const char type[4], const std::vector<uint8_t>& data) {
  if (data.size() > 0x7fffffffu) throw std::invalid_argument("PNG chunk too large");
  put_u32(out, static_cast<uint32_t>(data.size()));
  const size_t type_at = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_u32(out, png_crc32(out.data() + type_at, 4 + data.size()));
}

void append_text_chunk(std::vector<uint8_t>& out, const PngTextChunk& t) {
  check_keyword(t.keyword);
  std::vector<uint8_t> data(t.keyword.begin(), t.keyword.end());
  data.push_back(0);
  if (is_ascii(t.text)) {
    data.insert(data.end(), t.text.begin(), t.text.end());
    append_chunk(out, "tEXt", data);
  } else {
    // iTXt: keyword\0 compression-flag(0) method(0) language\0 translated-keyword\0 text (UTF-8)
    data.insert(data.end(), {0, 0, 0, 0});
    data.insert(data.end(), t.text.begin(), t.text.end());
    append_chunk(out, "iTXt", data);
  }
}

void collect(void* ctx, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(ctx);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

}  // namespace

uint32_t png_crc32(const void* data, size_t size, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = kCrcTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::vector<uint8_t> png_insert_text_chunks(const std::vector<uint8_t>& png, const std::vector<PngTextChunk>& texts) {
  // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC).
  constexpr size_t kAfterIhdr = 8 + 25;
  if (png.size() < kAfterIhdr || std::memcmp(png.data(), kSignature, 8) != 0 ||
      std::memcmp(png.data() + 12, "IHDR", 4) != 0 || png[8] != 0 || png[9] != 0 || png[10] != 0 || png[11] != 13)
    throw std::invalid_argument("not a PNG with an IHDR chunk");
  std::vector<uint8_t> out(png.begin(), png.begin() + kAfterIhdr);
  for (const auto& t : texts) append_text_chunk(out, t);
  out.insert(out.end(), png.begin() + kAfterIhdr, png.end());
  return out;
}

std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels,
                                const std::vector<PngTextChunk>& texts) {
  if (!pixels || width <= 0 || height <= 0 || channels < 1 || channels > 4)
    throw std::invalid_argument("encode_png: bad image (" + std::to_string(width) + "x" + std::to_string(height) +
                                "x" + std::to_string(channels) + ")");
  const uint64_t stride = uint64_t(width) * uint64_t(channels);
  if (stride > 0x7fffffff || uint64_t(height) * stride > 0x7fffffff) throw std::invalid_argument("encode_png: image too large");
  for (const auto& t : texts) check_keyword(t.keyword);
  std::vector<uint8_t> png;
  if (!stbi_write_png_to_func(collect, &png, width, height, channels, pixels, static_cast<int>(stride)))
    throw std::runtime_error("encode_png: stb_image_write failed");
  return texts.empty() ? png : png_insert_text_chunks(png, texts);
}

void write_png_file(const std::string& path, const uint8_t* pixels, int width, int height, int channels,
                    const std::vector<PngTextChunk>& texts) {
  const std::vector<uint8_t> png = encode_png(pixels, width, height, channels, texts);
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + tmp);
  const bool ok = std::fwrite(png.data(), 1, png.size(), f) == png.size();
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path);
  }
}

}  // namespace vkdream::media
