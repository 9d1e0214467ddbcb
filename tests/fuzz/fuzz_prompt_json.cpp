// An API-format prompt as POST /prompt carries it: parsed (a PromptError is the documented refusal), validated
// against the node schemas of the built node packs (never an exception: bad graphs are ComfyUI's error JSON),
// and written back.
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "graph/engine.h"
#include "graph/prompt.h"
#include "graph/validate.h"

namespace {

const vkdream::graph::NodeRegistry& registry() {
  static std::unique_ptr<vkdream::graph::Engine> engine = [] {
    vkdream::graph::EngineOptions o;
    o.plugin_paths = {VKDREAM_PLUGIN_DIR};
    o.directories["models"] = std::filesystem::temp_directory_path().string();
    o.log = [](int, const std::string&, const std::string&) {};
    return std::make_unique<vkdream::graph::Engine>(std::move(o));
  }();
  return engine->registry();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkdream::graph;
  const NodeRegistry& reg = registry();
  Prompt prompt;
  try {
    prompt = parse_prompt(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const PromptError&) {
    return 0;
  }
  ValidationResult r = validate_prompt(prompt, reg);
  (void)r.error_response().dump();
  (void)r.prompt.to_json().dump();
  return 0;
}
