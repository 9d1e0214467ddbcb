// check_serving_limits: the serving API's bounds on literal node inputs (reliability.md "Limits").
#include <cmath>

#include "serving_prompt.h"

namespace vkdream::server {

using graph::JsonValue;

namespace {

std::optional<double> number_of(const JsonValue& v) {
  if (v.is_int()) return static_cast<double>(v.as_int());
  if (v.is_float()) return v.as_float();
  return std::nullopt;
}

HttpResponse limit_error(const std::string& node, const std::string& input, const std::string& what) {
  return HttpResponse::error(400, "Invalid value for " + input + " in node " + node + ": " + what,
                             {{"location", JsonValue::string("prompt." + node + ".inputs." + input)}});
}

}  // namespace

std::optional<HttpResponse> check_serving_limits(const JsonValue& graph) {
  for (const auto& [node_id, node] : graph.members()) {
    const JsonValue* inputs = node.is_object() ? node.find("inputs") : nullptr;
    if (!inputs || !inputs->is_object()) continue;
    for (const auto& [name, value] : inputs->members()) {
      if (value.is_array()) continue;  // a link
      if (name == "text" && value.is_string() && value.as_string().size() > (64u << 10))
        return limit_error(node_id, name, "prompt text longer than 65536 bytes");
      auto n = number_of(value);
      if (value.is_float() && !std::isfinite(value.as_float()))
        return limit_error(node_id, name, "not a finite number");
      if (!n) continue;
      double x = *n;
      if (name == "width" || name == "height") {
        if (x < 64 || x > 2048 || std::fmod(x, 8) != 0)
          return limit_error(node_id, name, "must be a multiple of 8 in 64..2048");
      } else if (name == "batch_size") {
        if (x < 1 || x > 16) return limit_error(node_id, name, "must be in 1..16");
      } else if (name == "steps") {
        if (x < 1 || x > 150) return limit_error(node_id, name, "must be in 1..150");
      } else if (name == "cfg") {
        if (!(x >= 0 && x <= 100)) return limit_error(node_id, name, "must be a finite number in 0..100");
      } else if (name == "denoise") {
        if (!(x >= 0 && x <= 1)) return limit_error(node_id, name, "must be in 0..1");
      }
    }
  }
  return std::nullopt;
}

}  // namespace vkdream::server
