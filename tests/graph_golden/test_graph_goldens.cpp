// Every public whole-prompt golden (tests/fixtures/graphs/<case>: ComfyUI's own run of prompt.json on the tiny
// checkpoint, the PNGs its SaveImage wrote) through the real node packs: the PNGs we write must be within 2
// levels per value with a mean difference under 0.5 (numerics.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "graph_fixture.h"

namespace vkdream::graph_golden {
namespace {

std::vector<std::string> image_cases() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fixtures()))
    if (fs::is_directory(e.path() / "output")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class GraphGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(GraphGolden, ImagesMatchComfyUI) {
  const std::string name = GetParam();
  const fs::path dir = fixtures() / name;
  const fs::path work = fs::path(VKDREAM_BUILD_DIR) / "graph-out" / name;
  fs::remove_all(work);
  fs::create_directories(work / "output");
  fs::create_directories(work / "temp");
  fs::path input = fs::exists(dir / "input") ? dir / "input" : work / "input";
  fs::create_directories(input);

  auto engine = make_engine(input, work / "output", work / "temp");
  graph::ValidationResult v = engine->validate(case_prompt(name));
  ASSERT_TRUE(v.ok) << v.error_response().dump();
  graph::ExecResult r = engine->execute(v, "golden");
  ASSERT_TRUE(r.success) << r.error.dump();

  int compared = 0;
  for (const auto& e : fs::directory_iterator(dir / "output")) {
    fs::path got = work / "output" / e.path().filename();
    ASSERT_TRUE(fs::exists(got)) << "SaveImage did not write " << e.path().filename() << "; outputs: "
                                 << r.ui_outputs.dump();
    auto res = images_close(got, e.path(), 2, 0.5);
    std::cout << "[graph golden] " << name << " " << res.message() << "\n";
    EXPECT_TRUE(res);
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

INSTANTIATE_TEST_SUITE_P(Public, GraphGolden, ::testing::ValuesIn(image_cases()),
                         [](const auto& info) { return info.param; });

// ComfyUI's cache: the same prompt with only the seed changed re-runs the sampler and what follows it, and
// serves the checkpoint loader and both text encoders from the cache.
TEST(GraphCache, NewSeedSkipsLoaderAndTextEncoders) {
  const fs::path work = fs::path(VKDREAM_BUILD_DIR) / "graph-out" / "cache-seed";
  fs::remove_all(work);
  for (const char* d : {"input", "output", "temp"}) fs::create_directories(work / d);
  auto engine = make_engine(work / "input", work / "output", work / "temp");
  graph::JsonValue prompt = case_prompt("txt2img_template");
  graph::ExecResult first = engine->execute(engine->validate(prompt), "p1");
  ASSERT_TRUE(first.success) << first.error.dump();

  // KSampler's seed + 1; every other input unchanged.
  for (auto& [id, node] : prompt.members()) {
    const graph::JsonValue* cls = node.find("class_type");
    if (cls && cls->as_string() == "KSampler") {
      graph::JsonValue& seed = *node.find("inputs")->find("seed");
      seed = graph::JsonValue::integer(seed.as_int() + 1);
    }
  }
  std::vector<std::string> events;
  graph::ExecResult second = engine->execute(engine->validate(prompt), "p2", [&](const graph::ExecEvent& e) {
    events.push_back(e.type);
  });
  ASSERT_TRUE(second.success) << second.error.dump();
  auto ran = [&](const std::string& cls) {
    graph::Prompt p = graph::prompt_from_json(prompt);
    for (const auto& id : second.ran)
      if (p.find(id)->class_type == cls) return true;
    return false;
  };
  EXPECT_FALSE(ran("CheckpointLoaderSimple"));
  EXPECT_FALSE(ran("CLIPTextEncode"));
  EXPECT_FALSE(ran("EmptyLatentImage"));
  EXPECT_TRUE(ran("KSampler"));
  EXPECT_TRUE(ran("VAEDecode"));
  EXPECT_TRUE(ran("SaveImage"));
  EXPECT_EQ(second.cached.size(), 4u);  // loader, two encoders, empty latent
  EXPECT_NE(std::find(events.begin(), events.end(), "execution_cached"), events.end());
  // Two different images were written (counter 1 and 2).
  EXPECT_TRUE(fs::exists(work / "output" / "ComfyUI_00001_.png"));
  EXPECT_TRUE(fs::exists(work / "output" / "ComfyUI_00002_.png"));
}

}  // namespace
}  // namespace vkdream::graph_golden
