// SaveImage / PreviewImage (nodes.py, folder_paths.get_save_image_path): each image of the batch as
// <prefix>_<counter:05>_.png with the prompt as a "prompt" text chunk; the counter continues after the highest
// one already in the folder; the ui reports {"images": [{filename, subfolder, type}]}.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <random>

#include "graph/json_value.h"
#include "image.h"
#include "media/png_writer.h"
#include "pack_util.h"

namespace vkdream::packs::image {

namespace fs = std::filesystem;

namespace {

// ComfyUI's counter: files named <filename>_<digits>_..., the highest digits + 1 (1 when none).
int next_counter(const fs::path& folder, const std::string& filename) {
  int best = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() <= filename.size() + 1 || name.compare(0, filename.size(), filename) != 0 ||
        name[filename.size()] != '_')
      continue;
    size_t i = filename.size() + 1, j = i;
    while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
    if (j == i || j >= name.size() || name[j] != '_') continue;
    best = std::max(best, std::atoi(name.substr(i, j - i).c_str()));
  }
  return best + 1;
}

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
  prefix = replace_all(replace_all(prefix, "%width%", std::to_string(W)), "%height%", std::to_string(H));

  fs::path out_dir = fs::weakly_canonical(fs::path(dir));
  fs::path rel = fs::path(prefix).lexically_normal();
  fs::path subfolder = rel.parent_path();
  std::string filename = rel.filename().string();
  fs::path folder = (out_dir / subfolder).lexically_normal();
  auto [a, b] = std::mismatch(out_dir.begin(), out_dir.end(), folder.begin(), folder.end());
  if (a != out_dir.end() || rel.is_absolute())
    value_error("Saving image outside the output folder is not allowed. full_output_folder: " + folder.string() +
                ", output_dir: " + out_dir.string());
  fs::create_directories(folder);
  int counter = next_counter(folder, filename);

  std::vector<media::PngTextChunk> texts;
  if (c.has("prompt")) texts.push_back({"prompt", c.get_string("prompt")});

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
    char counter_str[16];
    std::snprintf(counter_str, sizeof counter_str, "%05d", counter);
    std::string file = replace_all(filename, "%batch_num%", std::to_string(i)) + "_" + counter_str + "_.png";
    media::write_png_file((folder / file).string(), bytes.data(), int(W), int(H), int(C), texts);
    graph::JsonValue r = graph::JsonValue::object();
    r.set("filename", graph::JsonValue::string(file));
    r.set("subfolder", graph::JsonValue::string(subfolder.generic_string()));
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
