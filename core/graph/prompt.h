// An API-format prompt: {"<id>": {"class_type": "...", "inputs": {...}, "_meta": {...}}}. Inputs are literals,
// links ["<id>", <output index>] (any JSON array is treated as a link, as ComfyUI does), or {"__value__": [...]}
// for list literals.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "graph/json_value.h"

namespace vkdream::graph {

struct PromptLimits {
  int max_depth = 64;                  // JSON nesting
  size_t max_nodes = 1000;             // nodes per prompt
  size_t max_string_bytes = 1u << 20;  // any one string
};

struct PromptNode {
  std::string id;
  bool has_class_type = false;
  JsonValue class_type_value;  // as sent (normally a string)
  std::string class_type;      // str() of it
  bool has_inputs = false;
  JsonValue inputs = JsonValue::object();  // ordered name -> value
  JsonValue meta;                          // "_meta" (title), kept for the history
  bool is_object = true;                   // false when the node itself was not a JSON object
};

struct Prompt {
  std::vector<PromptNode> nodes;  // JSON order
  const PromptNode* find(std::string_view id) const;
  PromptNode* find(std::string_view id);
  JsonValue to_json() const;  // back to API format (inputs as they are now: coerced after validation)

 private:
  friend Prompt prompt_from_json(const JsonValue& graph, const PromptLimits& limits);
  std::map<std::string, size_t, std::less<>> index_;
};

// A prompt that cannot be read at all (not JSON, over a limit, not an object). `type` is ComfyUI's error type.
class PromptError : public std::runtime_error {
 public:
  PromptError(std::string type, const std::string& message, std::string details = "")
      : std::runtime_error(message), type_(std::move(type)), details_(std::move(details)) {}
  const std::string& type() const { return type_; }
  const std::string& details() const { return details_; }

 private:
  std::string type_;
  std::string details_;
};

// Parses the graph object (the value of the request's "prompt" field).
Prompt parse_prompt(std::string_view json_text, const PromptLimits& limits = {});
Prompt prompt_from_json(const JsonValue& graph, const PromptLimits& limits = {});

inline bool is_link(const JsonValue& v) { return v.is_array(); }

}  // namespace vkdream::graph
