#include "graph/node_call.h"

#include <limits>

namespace vkdream::graph {

VkdValue vkd_none() {
  VkdValue v{};
  v.struct_size = sizeof(VkdValue);
  v.kind = VKD_VALUE_NONE;
  return v;
}

NodeCall::NodeCall(const NodeClass& nc, const std::string& node_id, const VkdHost* host, void* executor_state)
    : nc_(nc), node_id_(node_id), executor_state_(executor_state) {
  inputs_.assign(nc.inputs.size(), vkd_none());
  outputs_.assign(nc.outputs.size(), vkd_none());
  ctx_.struct_size = sizeof(VkdExecContext);
  ctx_.host = host;
  ctx_.node_id = node_id_.c_str();
  ctx_.class_type = nc_.class_type.c_str();
  ctx_.node_user_data = nc_.user_data;
  ctx_.set_error = [](VkdExecContext* c, const char* type, const char* message) {
    NodeCall* self = from(c);
    self->error_type_ = type ? type : "";
    self->error_message_ = message ? message : "";
  };
  ctx_.set_ui_json = [](VkdExecContext* c, const char* json) { from(c)->ui_json_ = json ? json : ""; };
  ctx_.set_fingerprint = [](VkdExecContext* c, const char* f) { from(c)->fingerprint_ = f ? f : ""; };
  ctx_.host_private = this;
}

void NodeCall::set_literal(size_t k, const JsonValue& v) {
  VkdValue out = vkd_none();
  const InputSpec& spec = nc_.inputs[k];
  auto clamp_int = [&](const JsonValue& iv) -> int64_t {
    if (iv.int_overflow()) return iv.as_int() < 0 ? std::numeric_limits<int64_t>::min()
                                                  : (spec.is_unsigned() ? -1 : std::numeric_limits<int64_t>::max());
    Int128 x = iv.as_int();
    if (spec.is_unsigned()) {
      if (x < 0) return 0;
      if (x > Int128(std::numeric_limits<uint64_t>::max())) return -1;
      return static_cast<int64_t>(static_cast<uint64_t>(x));
    }
    if (x < Int128(std::numeric_limits<int64_t>::min())) return std::numeric_limits<int64_t>::min();
    if (x > Int128(std::numeric_limits<int64_t>::max())) return std::numeric_limits<int64_t>::max();
    return static_cast<int64_t>(x);
  };
  switch (v.kind()) {
    case JsonValue::Kind::Int:
      out.kind = VKD_VALUE_INT;
      out.i = clamp_int(v);
      break;
    case JsonValue::Kind::Float:
      out.kind = VKD_VALUE_FLOAT;
      out.f = v.as_float();
      break;
    case JsonValue::Kind::Bool:
      out.kind = VKD_VALUE_BOOLEAN;
      out.i = v.as_bool() ? 1 : 0;
      break;
    case JsonValue::Kind::String:
      strings_.push_back(v.as_string());
      out.kind = VKD_VALUE_STRING;
      out.s = strings_.back().c_str();
      out.s_len = strings_.back().size();
      break;
    case JsonValue::Kind::Null:
      break;
    default:  // lists/dicts: handed over as their JSON text
      strings_.push_back(v.dump());
      out.kind = VKD_VALUE_STRING;
      out.s = strings_.back().c_str();
      out.s_len = strings_.back().size();
      break;
  }
  inputs_[k] = out;
}

VkdStatus NodeCall::call(VkdNodeFn fn) {
  for (auto& o : outputs_) o = vkd_none();
  error_type_.clear();
  error_message_.clear();
  ctx_.input_count = static_cast<uint32_t>(inputs_.size());
  ctx_.inputs = inputs_.data();
  ctx_.output_count = static_cast<uint32_t>(outputs_.size());
  ctx_.outputs = outputs_.data();
  if (!fn) return VKD_OK;
  return fn(&ctx_);
}

}  // namespace vkdream::graph
