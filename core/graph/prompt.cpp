#include "graph/prompt.h"

namespace vkdream::graph {

const PromptNode* Prompt::find(std::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &nodes[it->second];
}
PromptNode* Prompt::find(std::string_view id) {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &nodes[it->second];
}

JsonValue Prompt::to_json() const {
  JsonValue out = JsonValue::object();
  for (const auto& n : nodes) {
    JsonValue node = JsonValue::object();
    if (n.has_inputs) node.set("inputs", n.inputs);
    if (n.has_class_type) node.set("class_type", n.class_type_value);
    if (!n.meta.is_null()) node.set("_meta", n.meta);
    out.set(n.id, std::move(node));
  }
  return out;
}

Prompt prompt_from_json(const JsonValue& graph, const PromptLimits& limits) {
  if (!graph.is_object())
    throw PromptError("invalid_prompt", "Invalid prompt: the prompt must be a JSON object of nodes",
                      std::string("received ") + graph.py_type_name());
  if (graph.size() > limits.max_nodes)
    throw PromptError("invalid_prompt", "Invalid prompt: too many nodes",
                      std::to_string(graph.size()) + " nodes, the limit is " + std::to_string(limits.max_nodes));
  Prompt p;
  for (const auto& [id, v] : graph.members()) {
    PromptNode n;
    n.id = id;
    if (!v.is_object()) {
      n.is_object = false;
    } else {
      if (const JsonValue* ct = v.find("class_type")) {
        n.has_class_type = true;
        n.class_type_value = *ct;
        n.class_type = ct->py_str();
      }
      if (const JsonValue* in = v.find("inputs")) {
        n.has_inputs = true;
        n.inputs = *in;
      }
      if (const JsonValue* meta = v.find("_meta")) n.meta = *meta;
    }
    auto it = p.index_.find(id);
    if (it != p.index_.end()) {
      p.nodes[it->second] = std::move(n);  // duplicate key: the last one wins (json.loads)
    } else {
      p.index_.emplace(id, p.nodes.size());
      p.nodes.push_back(std::move(n));
    }
  }
  return p;
}

Prompt parse_prompt(std::string_view json_text, const PromptLimits& limits) {
  JsonLimits jl;
  jl.max_depth = limits.max_depth;
  jl.max_string_bytes = limits.max_string_bytes;
  JsonValue v;
  try {
    v = parse_json(json_text, jl);
  } catch (const JsonParseError& e) {
    throw PromptError("invalid_prompt", std::string("Invalid prompt: ") + e.what());
  }
  return prompt_from_json(v, limits);
}

}  // namespace vkdream::graph
