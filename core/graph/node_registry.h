// The loaded node classes (from plugins or registered in-process) and ComfyUI's /object_info records.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "graph/json_value.h"
#include "graph/plugin_abi.h"

namespace vkdream::graph {

struct InputSpec {
  std::string name;
  std::string type;  // "INT", ..., "COMBO"
  VkdInputCategory category = VKD_INPUT_REQUIRED;
  uint32_t flags = 0;
  int64_t int_default = 0, int_min = 0, int_max = 0, int_step = 0;
  double float_default = 0, float_min = 0, float_max = 0, float_step = 0, float_round = 0;
  std::string string_default;
  std::vector<std::string> combo;
  VkdComboFn combo_fn = nullptr;
  void* combo_user_data = nullptr;
  std::string tooltip;
  std::vector<JsonValue::Member> extra;  // parsed extra_json members

  bool is_combo() const { return type == "COMBO"; }
  bool is_unsigned() const { return (flags & VKD_INPUT_FLAG_UNSIGNED) != 0; }
  // The bounds as Python values (int or float); null when not declared.
  JsonValue min_value() const;
  JsonValue max_value() const;
};

struct OutputSpec {
  std::string type;
  std::string name;
  bool is_list = false;
  std::string tooltip;
};

struct NodeClass {
  std::string class_type, display_name, category, description;
  std::vector<InputSpec> inputs;  // declaration order (required, optional, hidden as declared)
  std::vector<OutputSpec> outputs;
  uint32_t flags = 0;
  VkdNodeFn execute = nullptr;
  VkdNodeFn validate = nullptr;
  std::vector<std::string> validate_inputs;
  VkdNodeFn fingerprint = nullptr;
  void* user_data = nullptr;
  std::string origin;  // the plugin file that declared it

  bool output_node() const { return (flags & VKD_NODE_FLAG_OUTPUT) != 0; }
  const InputSpec* find_input(std::string_view name) const;
  int input_index(std::string_view name) const;
};

class NodeRegistry {
 public:
  explicit NodeRegistry(const VkdHost* host = nullptr) : host_(host) {}
  void set_host(const VkdHost* host) { host_ = host; }
  const VkdHost* host() const { return host_; }

  // Adds one class. A duplicate class_type is refused with an error naming both origins.
  bool add(const VkdNodeDecl& decl, const std::string& origin, std::string* error);
  const NodeClass* find(std::string_view class_type) const;
  const std::vector<const NodeClass*>& classes() const { return order_; }
  size_t size() const { return order_.size(); }

  // Combo options as offered now (a dynamic combo calls its plugin).
  std::vector<std::string> combo_options(const InputSpec& in) const;
  // ComfyUI's input config: [type, {options}] or [[combo options], {options}].
  JsonValue input_config(const InputSpec& in, bool for_object_info = false) const;
  JsonValue object_info(const NodeClass& nc) const;
  JsonValue object_info_all() const;

 private:
  const VkdHost* host_;
  std::map<std::string, NodeClass, std::less<>> classes_;
  std::vector<const NodeClass*> order_;
};

}  // namespace vkdream::graph
