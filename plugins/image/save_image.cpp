// SaveImage / PreviewImage (nodes.py): each image of the batch as <prefix>_<counter:05>_.png in the folder
// get_save_image_path gives (save_path.h: prefix variables, subfolders, the counter), with the prompt as a
// "prompt" text chunk and one chunk per extra_pnginfo key; the ui reports {"images": [{filename, subfolder, type}]}.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <random>

#include "graph/json_value.h"
#include "image.h"
#include "media/png_writer.h"
#include "pack_util.h"
#include "save_path.h"

namespace vkdream::packs::image {

namespace fs = std::filesystem;

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

void save(vkd::Context& c, const char* folder_kind, const std::string& type, std::string prefix) {
  const Tensor& images = image_in(c, "images").pixels;  // [B, H, W, C]
  auto* paths = vkd::service<VkdPathsService>(VKD_SERVICE_PATHS);
  const char* dir = paths ? paths->directory(vkd::host(), folder_kind) : nullptr;
  if (!dir) value_error(std::string("no '") + folder_kind + "' folder is configured");
  const int64_t B = images.dim(0), H = images.dim(1), W = images.dim(2), C = images.dim(3);
  std::time_t t = std::time(nullptr);
  std::tm now{};
  localtime_r(&t, &now);
  SaveImagePath where = get_save_image_path(prefix, py_abspath(dir), W, H, now);
  fs::path folder(where.full_output_folder);
  const std::string& filename = where.filename;
  int64_t counter = where.counter;

  // PngInfo: "prompt" then one chunk per key of extra_pnginfo, each json.dumps (ASCII) of the value.
  std::vector<media::PngTextChunk> texts;
  if (c.has("prompt")) texts.push_back({"prompt", json_ensure_ascii(c.get_string("prompt"))});
  if (c.has("extra_pnginfo")) {
    graph::JsonValue extra = graph::parse_json(c.get_string("extra_pnginfo"));
    if (extra.is_object())
      for (const auto& [key, value] : extra.members()) texts.push_back({key, json_ensure_ascii(value.dump())});
  }

  NodeStream ns;
  std::vector<float> px = to_host(ns, images);
  graph::JsonValue results = graph::JsonValue::array();
  std::vector<uint8_t> bytes(size_t(H * W * C));
  for (int64_t i = 0; i < B; ++i) {
    // np.clip(255 * x, 0, 255).astype(uint8): scale in f32, clip, truncate.
    const float* src = px.data() + size_t(i * H * W * C);
    for (size_t k = 0; k < bytes.size(); ++k) {
      float v = 255.0f * src[k];
      v = std::isnan(v) ? 0.0f : std::clamp(v, 0.0f, 255.0f);
      bytes[k] = uint8_t(v);
    }
    char counter_str[32];
    std::snprintf(counter_str, sizeof counter_str, "%05lld", static_cast<long long>(counter));
    std::string file = replace_all(filename, "%batch_num%", std::to_string(i)) + "_" + counter_str + "_.png";
    media::write_png_file((folder / file).string(), bytes.data(), int(W), int(H), int(C), texts);
    graph::JsonValue r = graph::JsonValue::object();
    r.set("filename", graph::JsonValue::string(file));
    r.set("subfolder", graph::JsonValue::string(where.subfolder));
    r.set("type", graph::JsonValue::string(type));
    results.push(std::move(r));
    ++counter;
  }
  graph::JsonValue ui = graph::JsonValue::object();
  ui.set("images", std::move(results));
  c.set_ui_json(ui.dump());
}

}  // namespace

void save_image(vkd::Context& c) { save(c, "output", "output", c.get_string("filename_prefix")); }

void preview_image(vkd::Context& c) {
  static const char kLetters[] = "abcdefghijklmnopqrstupvxyz";  // ComfyUI's (sic)
  thread_local std::mt19937 rng{std::random_device{}()};
  std::string suffix;
  for (int i = 0; i < 5; ++i) suffix += kLetters[rng() % 26];
  save(c, "temp", "temp", "ComfyUI_temp_" + suffix);
}

}  // namespace vkdream::packs::image
