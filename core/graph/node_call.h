// One call into a plugin node function (execute, validate or fingerprint) through the C ABI: builds the input
// values, owns the strings they point to, and collects what the node reports (error, ui JSON, fingerprint).
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "graph/json_value.h"
#include "graph/node_registry.h"
#include "graph/plugin_abi.h"

namespace vkdream::graph {

class NodeCall {
 public:
  NodeCall(const NodeClass& nc, const std::string& node_id, const VkdHost* host, void* executor_state = nullptr);
  NodeCall(const NodeCall&) = delete;
  NodeCall& operator=(const NodeCall&) = delete;

  // A literal widget value (already coerced by validation) for input k.
  void set_literal(size_t k, const JsonValue& v);
  // A borrowed value (an upstream output) for input k.
  void set_value(size_t k, const VkdValue& v) { inputs_[k] = v; }

  // Calls fn; outputs are reset to NONE first. Never throws.
  VkdStatus call(VkdNodeFn fn);

  const std::vector<VkdValue>& outputs() const { return outputs_; }
  std::vector<VkdValue>& outputs() { return outputs_; }
  const std::vector<VkdValue>& inputs() const { return inputs_; }
  const std::string& error_type() const { return error_type_; }
  const std::string& error_message() const { return error_message_; }
  const std::string& ui_json() const { return ui_json_; }
  const std::string& fingerprint() const { return fingerprint_; }
  void* executor_state() const { return executor_state_; }
  static NodeCall* from(const VkdExecContext* ctx) { return static_cast<NodeCall*>(ctx->host_private); }
  const VkdExecContext& context() const { return ctx_; }

 private:
  const NodeClass& nc_;
  std::string node_id_;
  VkdExecContext ctx_{};
  std::vector<VkdValue> inputs_, outputs_;
  std::deque<std::string> strings_;
  std::string error_type_, error_message_, ui_json_, fingerprint_;
  void* executor_state_;
};

VkdValue vkd_none();

}  // namespace vkdream::graph
