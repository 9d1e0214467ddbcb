// ComfyUI's validate_prompt: the same checks, the same order of discovery and the same error JSON
// (invalid_prompt, prompt_no_outputs, prompt_outputs_failed_validation with per-node errors), including the
// quirks the goldens show (a dangling link reported under the linked node with the downstream input's name, a
// cycle failing without node errors, numbers sent as strings coerced with Python's int()/float(), `step` never
// enforced, invalid nodes that no output needs left alone).
#pragma once

#include <string>
#include <vector>

#include "graph/json_value.h"
#include "graph/node_registry.h"
#include "graph/prompt.h"

namespace vkdream::graph {

struct ValidationResult {
  bool ok = false;                         // at least one output validated (HTTP 200)
  JsonValue error;                         // {type, message, details, extra_info} when !ok
  std::vector<std::string> good_outputs;   // output node ids to execute
  JsonValue node_errors = JsonValue::object();
  Prompt prompt;                           // literals coerced as ComfyUI does (what the executor runs)

  int http_status() const { return ok ? 200 : 400; }
  // The 400 body: {"error": {...}, "node_errors": {...}}.
  JsonValue error_response() const;
};

// partial_targets: ComfyUI's partial_execution_targets (only these output nodes), or null for all.
ValidationResult validate_prompt(const Prompt& prompt, const NodeRegistry& registry,
                                 const std::vector<std::string>* partial_targets = nullptr);

// ComfyUI's validate_node_input: exact match, "*", or overlapping comma-separated unions.
bool types_compatible(const std::string& received, const std::string& input_type);

// An error object {type, message, details, extra_info}.
JsonValue make_error(const std::string& type, const std::string& message, const std::string& details,
                     JsonValue extra_info = JsonValue::object());

}  // namespace vkdream::graph
