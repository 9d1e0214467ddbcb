#include "graph_fixture.h"

#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#include <fstream>
#include <sstream>

#include "model/tiny_sd15.h"

namespace vkdream::graph_golden {

fs::path models_dir() {
  fs::path dir = fs::path(VKDREAM_BUILD_DIR) / "graph-models";
  auto tiny = model::ensure_tiny_sd15((fs::path(VKDREAM_BUILD_DIR) / "tiny-sd15").string());
  fs::create_directories(dir / "checkpoints");
  fs::create_directories(dir / "loras");
  fs::create_directories(dir / "embeddings");
  auto link = [](const fs::path& target, const fs::path& at) {
    std::error_code ec;
    if (fs::exists(at, ec)) return;
    fs::create_symlink(fs::absolute(target), at, ec);
    if (ec) fs::copy_file(target, at, fs::copy_options::overwrite_existing);
  };
  link(tiny.f32, dir / "checkpoints" / "tiny-sd15.safetensors");
  link(tiny.f16, dir / "checkpoints" / "tiny-sd15-fp16.safetensors");
  link(fixtures() / "loras" / "tiny-lora.safetensors", dir / "loras" / "tiny-lora.safetensors");
  return dir;
}

std::unique_ptr<graph::Engine> make_engine(const fs::path& input, const fs::path& output, const fs::path& temp) {
  graph::EngineOptions o;
  o.plugin_paths = {VKDREAM_PLUGIN_DIR};
  o.directories["models"] = models_dir().string();
  o.directories["input"] = input.string();
  o.directories["output"] = output.string();
  o.directories["temp"] = temp.string();
  auto e = std::make_unique<graph::Engine>(std::move(o));
  for (const auto& err : e->plugin_errors()) ADD_FAILURE() << "plugin: " << err;
  return e;
}

PngPixels read_png(const fs::path& path) {
  PngPixels p;
  stbi_uc* data = stbi_load(path.string().c_str(), &p.w, &p.h, &p.channels, 0);
  if (!data) return p;
  p.data.assign(data, data + size_t(p.w) * p.h * p.channels);
  stbi_image_free(data);
  return p;
}

::testing::AssertionResult images_close(const fs::path& got, const fs::path& want, int max_levels, double max_mean) {
  PngPixels a = read_png(got), b = read_png(want);
  if (a.data.empty()) return ::testing::AssertionFailure() << "cannot read " << got;
  if (b.data.empty()) return ::testing::AssertionFailure() << "cannot read " << want;
  if (a.w != b.w || a.h != b.h || a.channels != b.channels)
    return ::testing::AssertionFailure() << got.filename() << " is " << a.w << "x" << a.h << "x" << a.channels
                                         << ", ComfyUI's is " << b.w << "x" << b.h << "x" << b.channels;
  int worst = 0;
  double sum = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    int d = std::abs(int(a.data[i]) - int(b.data[i]));
    worst = std::max(worst, d);
    sum += d;
  }
  double mean = sum / double(a.data.size());
  std::ostringstream msg;
  msg << got.filename().string() << ": max " << worst << " levels, mean " << mean;
  if (worst > max_levels || mean >= max_mean) return ::testing::AssertionFailure() << msg.str();
  return ::testing::AssertionSuccess() << msg.str();
}

graph::JsonValue case_prompt(const std::string& name) {
  std::ifstream f(fixtures() / name / "prompt.json");
  std::stringstream buf;
  buf << f.rdbuf();
  graph::JsonValue body = graph::parse_json(buf.str());
  const graph::JsonValue* p = body.find("prompt");
  return p ? *p : body;
}

}  // namespace vkdream::graph_golden
