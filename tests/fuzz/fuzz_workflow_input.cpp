// The `input` object of a convenience workflow request (POST /workflow/sd1.5/txt2img on port 3000), filled into
// every shipped template: an InputError (the 400 answer) or a prompt, never another exception.
#include <cstdint>
#include <string_view>

#include "graph/json_value.h"
#include "workflows/workflow_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkdream;
  static const workflows::LoadedWorkflows loaded = workflows::load_workflow_dir(VKDREAM_SOURCE_DIR "/workflows");
  static const workflows::DynamicValues dyn = [] {
    workflows::DynamicValues d;
    d.enum_values = [](std::string_view) { return std::vector<std::string>{"dreamshaper_8.safetensors", "euler"}; };
    d.default_value = [](std::string_view) -> std::optional<graph::JsonValue> { return std::nullopt; };
    d.random_u64 = [] { return uint64_t(42); };
    return d;
  }();
  if (loaded.templates.empty()) __builtin_trap();
  graph::JsonValue input;
  try {
    input = graph::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const graph::JsonParseError&) {
    return 0;
  }
  for (const workflows::WorkflowTemplate& t : loaded.templates) {
    try {
      workflows::FilledWorkflow f = workflows::fill_workflow(t, input, dyn);
      (void)f.prompt.dump();
    } catch (const workflows::InputError&) {
    }
  }
  return 0;
}
