// LoadImage / LoadImageMask (nodes.py): the file from the input folder as IMAGE [1, H, W, 3] in [0, 1] and MASK
// [1, H, W] = 1 - alpha (64x64 zeros without alpha); LoadImageMask takes one channel (alpha inverted). Decoded
// by core/media's checked decoder: the header's dimensions are checked against the input image limits first.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "comfy_schemas.h"
#include "image.h"
#include "media/image_decode.h"
#include "model/sha256.h"
#include "pack_util.h"

namespace vkdream::packs::image {

namespace fs = std::filesystem;

namespace {

std::string input_path(const std::string& name) {
  if (!comfy_schemas::input_file_exists(name)) value_error("Invalid image file: " + name);
  auto* paths = vkd::service<VkdPathsService>(VKD_SERVICE_PATHS);
  return (fs::path(paths->directory(vkd::host(), "input")) / name).string();
}

struct Decoded {
  int w = 0, h = 0, channels = 0;  // channels in the file
  std::vector<uint8_t> rgba;
};

// Reads and decodes (limits of reliability.md: 16 MiB, 8192 px a side, 16.8 megapixels) to RGBA.
Decoded decode_rgba(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  std::ifstream f(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (!f.good() && !f.eof()) value_error("cannot read image " + name);
  try {
    media::ImageInfo info = media::probe_image(bytes);
    media::DecodedImage img = media::decode_image(bytes, 4);
    return Decoded{img.width, img.height, info.channels, std::move(img.pixels)};
  } catch (const media::ImageError& e) {
    value_error("image " + name + ": " + e.what());
  }
}

// One channel (0..3) of the RGBA pixels as floats / 255, optionally inverted (1 - v).
std::vector<float> channel(const Decoded& d, int ch, bool invert) {
  std::vector<float> out(size_t(d.w) * d.h);
  for (size_t i = 0; i < out.size(); ++i) {
    float v = float(d.rgba[i * 4 + size_t(ch)]) / 255.0f;
    out[i] = invert ? 1.0f - v : v;
  }
  return out;
}

}  // namespace

void load_image(vkd::Context& c) {
  Decoded d = decode_rgba(input_path(c.get_string("image")));
  std::vector<float> rgb(size_t(d.w) * d.h * 3);
  for (size_t i = 0; i < size_t(d.w) * d.h; ++i)
    for (int k = 0; k < 3; ++k) rgb[i * 3 + size_t(k)] = float(d.rgba[i * 4 + size_t(k)]) / 255.0f;
  NodeStream ns;
  Tensor img = from_host(ns, {1, d.h, d.w, 3}, DType::F32, rgb);
  Tensor mask;
  bool has_alpha = d.channels == 2 || d.channels == 4;
  if (has_alpha)
    mask = from_host(ns, {1, d.h, d.w}, DType::F32, channel(d, 3, true));
  else
    mask = from_host(ns, {1, 64, 64}, DType::F32, std::vector<float>(64 * 64, 0.0f));
  set_image(c, 0, img);
  set_mask(c, 1, mask);
}

void load_image_mask(vkd::Context& c) {
  Decoded d = decode_rgba(input_path(c.get_string("image")));
  std::string ch = c.get_string("channel");
  int idx = ch == "red" ? 0 : ch == "green" ? 1 : ch == "blue" ? 2 : 3;
  bool has_alpha = d.channels == 2 || d.channels == 4;
  NodeStream ns;
  Tensor mask;
  if (idx == 3 && !has_alpha)
    mask = from_host(ns, {1, 64, 64}, DType::F32, std::vector<float>(64 * 64, 0.0f));
  else
    mask = from_host(ns, {1, d.h, d.w}, DType::F32, channel(d, idx, idx == 3));
  set_mask(c, 0, mask);
}

void image_file_fingerprint(vkd::Context& c) {
  std::string name = c.get_string("image");
  if (!comfy_schemas::input_file_exists(name)) return;
  std::ifstream f(input_path(name), std::ios::binary);
  std::stringstream buf;
  buf << f.rdbuf();
  std::string bytes = buf.str();
  c.set_fingerprint(model::sha256_hex(bytes.data(), bytes.size()));
}

}  // namespace vkdream::packs::image
