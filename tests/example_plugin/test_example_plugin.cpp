// The out-of-tree example plugin (examples/plugin, built against the installed SDK by the CTest fixture
// build_example_plugin.sh) loads next to the built-in packs, shows in /object_info, and runs in a prompt: its
// sepia shader's output equals a CPU reference within float rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "graph/engine.h"
#include "graph_golden/graph_fixture.h"

namespace vkdream {
namespace {

namespace fs = std::filesystem;
using graph_golden::read_png;

const fs::path kPlugin = fs::path(VKDREAM_BUILD_DIR) / "example-plugin" / "example_filters.so";

std::unique_ptr<graph::Engine> engine_with_example(const fs::path& work) {
  graph::EngineOptions o;
  o.plugin_paths = {VKDREAM_PLUGIN_DIR, kPlugin.string()};
  o.directories["input"] = (graph_golden::fixtures() / "img2img" / "input").string();
  o.directories["output"] = (work / "output").string();
  o.directories["temp"] = (work / "temp").string();
  return std::make_unique<graph::Engine>(std::move(o));
}

TEST(ExamplePlugin, LoadsAndAppearsInObjectInfo) {
  ASSERT_TRUE(fs::exists(kPlugin)) << "the fixture did not build " << kPlugin;
  auto e = engine_with_example(fs::path(VKDREAM_BUILD_DIR) / "example-plugin-run");
  EXPECT_TRUE(e->plugin_errors().empty());
  graph::JsonValue info = e->object_info();
  const graph::JsonValue* node = info.find("ExampleSepia");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->find("category")->as_string(), "image/filters");
  EXPECT_NE(info.find("KSampler"), nullptr);  // the built-in packs load beside it
}

TEST(ExamplePlugin, RunsItsShaderInAPrompt) {
  const fs::path work = fs::path(VKDREAM_BUILD_DIR) / "example-plugin-run";
  fs::remove_all(work);
  fs::create_directories(work / "output");
  fs::create_directories(work / "temp");
  auto e = engine_with_example(work);
  graph::ValidationResult v = e->validate(std::string_view(R"({
    "1": {"class_type": "LoadImage", "inputs": {"image": "input_a.png"}},
    "2": {"class_type": "ExampleSepia", "inputs": {"image": ["1", 0], "strength": 0.75}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "sepia"}}})"));
  ASSERT_TRUE(v.ok) << v.error_response().dump();
  graph::ExecResult r = e->execute(v, "example");
  ASSERT_TRUE(r.success) << r.error.dump();

  auto in = read_png(graph_golden::fixtures() / "img2img" / "input" / "input_a.png");
  auto out = read_png(work / "output" / "sepia_00001_.png");
  ASSERT_FALSE(in.data.empty());
  ASSERT_EQ(out.w, in.w);
  ASSERT_EQ(out.h, in.h);
  ASSERT_EQ(out.channels, 3);
  int worst = 0;
  for (int p = 0; p < in.w * in.h; ++p) {
    double rgb[3];
    for (int k = 0; k < 3; ++k) rgb[k] = in.data[size_t(p * in.channels + k)] / 255.0;
    const double m[3][3] = {{0.393, 0.769, 0.189}, {0.349, 0.686, 0.168}, {0.272, 0.534, 0.131}};
    for (int k = 0; k < 3; ++k) {
      double sep = m[k][0] * rgb[0] + m[k][1] * rgb[1] + m[k][2] * rgb[2];
      double v = std::clamp(rgb[k] + (sep - rgb[k]) * 0.75, 0.0, 1.0);
      int want = int(std::clamp(255.0 * v, 0.0, 255.0));
      worst = std::max(worst, std::abs(want - int(out.data[size_t(p * 3 + k)])));
    }
  }
  EXPECT_LE(worst, 1);  // truncation to 8 bit may flip one level on float rounding
}

}  // namespace
}  // namespace vkdream
