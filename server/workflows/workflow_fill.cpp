#include "workflows/workflow_template.h"

#include <algorithm>
#include <random>

#include "workflows/field_check.h"

namespace vkdream::workflows {
namespace {

uint64_t random_u64(const DynamicValues& dyn) {
  if (dyn.random_u64) return dyn.random_u64();
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen();
}

// A uniform integer in [lo, hi] (both within 0..2^63).
JsonValue random_integer(const InputField& f, const DynamicValues& dyn) {
  const uint64_t lo = f.minimum ? static_cast<uint64_t>(std::max(0.0, *f.minimum)) : 0;
  const uint64_t hi = f.maximum ? static_cast<uint64_t>(std::max(0.0, *f.maximum)) : (uint64_t(1) << 53);
  const uint64_t span = hi >= lo ? hi - lo : 0;
  uint64_t r = random_u64(dyn);
  if (span != UINT64_MAX) r %= span + 1;  // the bias is below 2^-10 for spans up to 2^53
  return JsonValue::integer(static_cast<graph::Int128>(lo + r));
}

JsonValue replace_placeholders(const JsonValue& v, const JsonValue& values) {
  if (v.is_string()) {
    const std::string& s = v.as_string();
    if (s.size() >= 5 && s.compare(0, 2, "{{") == 0 && s.compare(s.size() - 2, 2, "}}") == 0)
      if (const JsonValue* filled = values.find(s.substr(2, s.size() - 4))) return *filled;
    return v;
  }
  if (v.is_array()) {
    JsonValue out = JsonValue::array();
    for (const JsonValue& item : v.items()) out.push(replace_placeholders(item, values));
    return out;
  }
  if (v.is_object()) {
    JsonValue out = JsonValue::object();
    for (const auto& [key, member] : v.members()) out.members().emplace_back(key, replace_placeholders(member, values));
    return out;
  }
  return v;
}

}  // namespace

FilledWorkflow fill_workflow(const WorkflowTemplate& tmpl, const JsonValue& input, const DynamicValues& dyn) {
  if (!input.is_object()) throw InputError("input must be an object", "input");
  for (const auto& member : input.members()) {
    const std::string& key = member.first;  // not a structured binding: the lambda captures it (clang 14 cannot)
    if (std::none_of(tmpl.fields.begin(), tmpl.fields.end(), [&](const InputField& f) { return f.name == key; })) {
      std::string names;
      for (const InputField& f : tmpl.fields) names += (names.empty() ? "" : ", ") + f.name;
      throw InputError("input." + key + " is not an input of " + tmpl.endpoint + " (inputs: " + names + ")", "input." + key);
    }
  }
  FilledWorkflow out;
  out.input = JsonValue::object();
  for (const InputField& f : tmpl.fields) {
    const std::string loc = "input." + f.name;
    std::vector<std::string> dynamic_enum;
    if (!f.enum_from.empty() && dyn.enum_values) dynamic_enum = dyn.enum_values(f.enum_from);
    const std::vector<std::string>* dyn_list = f.enum_from.empty() ? nullptr : &dynamic_enum;
    const JsonValue* given = input.find(f.name);
    JsonValue value;
    if (given && !given->is_null()) {
      value = check_field_value(f, *given, dyn_list);
    } else if (f.required) {
      throw InputError(loc + " is required", loc);
    } else if (f.default_value) {
      value = check_field_value(f, *f.default_value, dyn_list);
    } else if (f.default_from == "random") {
      value = random_integer(f, dyn);
    } else {
      std::optional<JsonValue> d = dyn.default_value ? dyn.default_value(f.default_from) : std::nullopt;
      if (!d) throw InputError(loc + " is required (the server has no default " + f.default_from + ")", loc);
      value = check_field_value(f, *d, dyn_list);
    }
    out.input.members().emplace_back(f.name, std::move(value));
  }
  out.prompt = replace_placeholders(tmpl.prompt, out.input);
  return out;
}

}  // namespace vkdream::workflows
