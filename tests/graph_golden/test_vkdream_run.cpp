// `vkdream run` from the command line: a golden prompt writes ComfyUI's image; an invalid prompt prints
// ComfyUI's error JSON and exits 1; `vkdream nodes` lists every node.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "graph_fixture.h"

namespace vkdream::graph_golden {
namespace {

struct CliResult {
  int status = -1;
  std::string out;
};

CliResult run_cli(const std::string& args) {
  CliResult r;
  std::string cmd = std::string(VKDREAM_BINARY) + " " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string common_flags(const fs::path& work) {
  return "--models " + models_dir().string() + " --out " + (work / "output").string() + " --temp " +
         (work / "temp").string() + " --plugins " + VKDREAM_PLUGIN_DIR;
}

TEST(VkdreamRun, GoldenPromptWritesComfyUIsImage) {
  const fs::path work = fs::path(VKDREAM_BUILD_DIR) / "graph-out" / "cli-run";
  fs::remove_all(work);
  fs::create_directories(work / "output");
  CliResult r = run_cli("run " + (fixtures() / "txt2img_template" / "prompt.json").string() + " -q " + common_flags(work));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"status\": \"success\""), std::string::npos) << r.out;
  EXPECT_TRUE(images_close(work / "output" / "ComfyUI_00001_.png",
                           fixtures() / "txt2img_template" / "output" / "ComfyUI_00001_.png", 2, 0.5));
}

TEST(VkdreamRun, InvalidPromptPrintsComfyUIsErrorAndExits1) {
  const fs::path work = fs::path(VKDREAM_BUILD_DIR) / "graph-out" / "cli-invalid";
  fs::create_directories(work);
  graph::JsonValue prompt = case_prompt("txt2img_template");
  for (auto& [id, node] : prompt.members())
    if (node.find("class_type")->as_string() == "KSampler") node.find("inputs")->set("steps", graph::JsonValue::integer(0));
  std::ofstream(work / "bad.json") << prompt.dump();
  CliResult r = run_cli("run " + (work / "bad.json").string() + " " + common_flags(work));
  EXPECT_EQ(r.status, 1);
  graph::JsonValue err = graph::parse_json(r.out);
  EXPECT_EQ(err.find("error")->find("type")->as_string(), "prompt_outputs_failed_validation");
  const graph::JsonValue* node_errors = err.find("node_errors");
  ASSERT_NE(node_errors, nullptr);
  ASSERT_NE(node_errors->find("3"), nullptr) << r.out;
  EXPECT_EQ(node_errors->find("3")->find("errors")->items()[0].find("type")->as_string(), "value_smaller_than_min");
}

TEST(VkdreamRun, NodesListsTheNodeSet) {
  CliResult r = run_cli(std::string("nodes --plugins ") + VKDREAM_PLUGIN_DIR);
  ASSERT_EQ(r.status, 0);
  graph::JsonValue info = graph::parse_json(r.out);
  for (const char* cls : {"CheckpointLoaderSimple", "KSampler", "KSamplerAdvanced", "VAEDecode", "SaveImage",
                          "LoadImage", "ImageResize+", "FreeU_V2", "LoraLoader", "ConditioningSetMask"})
    EXPECT_NE(info.find(cls), nullptr) << cls;
  EXPECT_EQ(info.size(), 37u);
}

// `vkdream tiny-checkpoint DIR` (the fallback of scripts/serve) writes the same files the tests generate.
TEST(VkdreamRun, TinyCheckpointWritesTheTestCheckpoints) {
  const fs::path dir = fs::path(VKDREAM_BUILD_DIR) / "graph-out" / "cli-tiny";
  fs::remove_all(dir);
  CliResult r = run_cli("tiny-checkpoint " + dir.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const fs::path ref = fs::path(VKDREAM_BUILD_DIR) / "tiny-sd15";
  models_dir();  // makes sure the reference files exist
  for (const char* f : {"tiny-sd15.safetensors", "tiny-sd15-fp16.safetensors"}) {
    ASSERT_TRUE(fs::exists(dir / f)) << f;
    EXPECT_EQ(fs::file_size(dir / f), fs::file_size(ref / f)) << f;
  }
  EXPECT_NE(run_cli("tiny-checkpoint").status, 0);  // usage error
}

}  // namespace
}  // namespace vkdream::graph_golden
