// The HTTP server over the real graph runtime: the in-tree SD1.5 node packs and the tiny checkpoint (generated
// on first use) in the test's model folder, behind both listeners.
#pragma once

#include "engine_runtime.h"
#include "model/tiny_sd15.h"
#include "test_http_support.h"

namespace vkdream::server::test {

inline std::string tiny_checkpoint() {
  const char* env = std::getenv("VKDREAM_TINY_CHECKPOINT");
  return env ? env : std::string(VKDREAM_TINY_DIR) + "/tiny-sd15.safetensors";
}

class SD15ServerTest : public ServerTest {
 public:
  std::unique_ptr<graph::Engine> engine;
  std::unique_ptr<EngineRuntime> engine_runtime;
  // The file name the tiny checkpoint gets in models/checkpoints (set before SetUp runs, in the constructor).
  std::string checkpoint_name = "tiny.safetensors";

  void SetUp() override {
    ServerTest::SetUp();
    if (!std::getenv("VKDREAM_TINY_CHECKPOINT")) model::ensure_tiny_sd15(VKDREAM_TINY_DIR);
    ASSERT_TRUE(fs::exists(tiny_checkpoint())) << tiny_checkpoint();
    ASSERT_TRUE(fs::exists(std::string(VKDREAM_PLUGIN_DIR))) << "no node packs in " << VKDREAM_PLUGIN_DIR;
    fs::create_symlink(tiny_checkpoint(), root / "models/checkpoints" / checkpoint_name);
    graph::EngineOptions eo;
    eo.plugin_paths = {VKDREAM_PLUGIN_DIR};
    for (const char* kind : {"input", "output", "temp", "models"}) eo.directories[kind] = (root / kind).string();
    eo.log = [](int, const std::string&, const std::string&) {};
    engine = std::make_unique<graph::Engine>(eo);
    ASSERT_TRUE(engine->registry().find("KSampler") && engine->registry().find("SaveImage"));
    engine_runtime = std::make_unique<EngineRuntime>(*engine);
    config.workflow_dir = std::string(VKDREAM_SOURCE_DIR) + "/workflows";
  }
  void start_real() {
    server = std::make_unique<Server>(config, *engine_runtime);
    server->set_log_sink([](const std::string&) {});
    server->start();
    server->mark_warm();
  }
  void TearDown() override {
    server.reset();
    engine_runtime.reset();
    engine.reset();
    ServerTest::TearDown();
  }
};

}  // namespace vkdream::server::test
