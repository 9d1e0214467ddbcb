// Shared set-up for the whole-prompt tests: a models folder with the generated tiny checkpoints and the test
// LoRA, an Engine that loads the real node packs from the build tree, and PNG comparison.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "graph/engine.h"

namespace vkdream::graph_golden {

namespace fs = std::filesystem;

inline fs::path fixtures() { return fs::path(VKDREAM_FIXTURES_DIR) / "graphs"; }

// <build>/graph-models: checkpoints/ (tiny-sd15.safetensors, tiny-sd15-fp16.safetensors), loras/, embeddings/.
fs::path models_dir();

// An engine over the build's packs with `input` (may be empty: an empty folder) and a fresh `output` folder.
std::unique_ptr<graph::Engine> make_engine(const fs::path& input, const fs::path& output, const fs::path& temp);

struct PngPixels {
  int w = 0, h = 0, channels = 0;
  std::vector<uint8_t> data;
};
PngPixels read_png(const fs::path& path);

// Max and mean absolute difference per channel value; false (with a message) on a size mismatch.
::testing::AssertionResult images_close(const fs::path& got, const fs::path& want, int max_levels, double max_mean);

// The prompt graph of a fixture case's prompt.json ({"prompt": graph}).
graph::JsonValue case_prompt(const std::string& name);

}  // namespace vkdream::graph_golden
