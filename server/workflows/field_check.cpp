#include "workflows/field_check.h"

#include <cmath>

namespace vkdream::workflows {
namespace {

std::string num_text(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e18) return std::to_string(static_cast<long long>(d));
  return graph::py_float_repr(d);
}

std::string value_text(const JsonValue& v) {
  std::string s = v.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

}  // namespace

const char* field_type_name(FieldType type) {
  switch (type) {
    case FieldType::String: return "string";
    case FieldType::Integer: return "integer";
    case FieldType::Number: return "number";
    case FieldType::Boolean: return "boolean";
  }
  return "?";
}

JsonValue check_field_value(const InputField& f, const JsonValue& value, const std::vector<std::string>* dynamic_enum) {
  const std::string loc = "input." + f.name;
  auto fail = [&](const std::string& why) -> InputError { return InputError(loc + " " + why, loc); };
  JsonValue out = value;
  switch (f.type) {
    case FieldType::String:
      if (!value.is_string()) throw fail("must be a string (got " + value_text(value) + ")");
      if (f.max_length && value.as_string().size() > *f.max_length)
        throw fail("is longer than " + std::to_string(*f.max_length) + " bytes");
      break;
    case FieldType::Boolean:
      if (!value.is_bool()) throw fail("must be true or false (got " + value_text(value) + ")");
      break;
    case FieldType::Integer:
    case FieldType::Number: {
      const bool integer = f.type == FieldType::Integer;
      if (!value.is_number() || value.int_overflow())
        throw fail(std::string("must be ") + (integer ? "an integer" : "a number") + " (got " + value_text(value) + ")");
      double d;
      if (value.is_int()) {
        d = static_cast<double>(value.as_int());
      } else {
        d = value.as_float();
        if (!std::isfinite(d)) throw fail("must be a finite number");
        if (integer) {
          if (d != std::floor(d) || std::fabs(d) > 1e30) throw fail("must be an integer (got " + value_text(value) + ")");
          out = JsonValue::integer(static_cast<graph::Int128>(d));
        }
      }
      // Exact integer comparisons where both sides are integers (seeds up to 2^53 and beyond).
      const bool exact = out.is_int();
      auto below = [&](double bound) {
        return exact ? out.as_int() < static_cast<graph::Int128>(std::ceil(bound)) : d < bound;
      };
      auto above = [&](double bound) {
        return exact ? out.as_int() > static_cast<graph::Int128>(std::floor(bound)) : d > bound;
      };
      if (f.minimum && below(*f.minimum)) throw fail("must be at least " + num_text(*f.minimum) + " (got " + value_text(value) + ")");
      if (f.maximum && above(*f.maximum)) throw fail("must be at most " + num_text(*f.maximum) + " (got " + value_text(value) + ")");
      if (f.multiple_of && *f.multiple_of > 0) {
        const double q = d / *f.multiple_of;
        if (std::fabs(q - std::round(q)) > 1e-9)
          throw fail("must be a multiple of " + num_text(*f.multiple_of) + " (got " + value_text(value) + ")");
      }
      break;
    }
  }
  const bool has_static = !f.enum_values.empty();
  const bool has_dynamic = !f.enum_from.empty() && dynamic_enum;
  if (has_static || has_dynamic) {
    bool found = false;
    for (const JsonValue& e : f.enum_values) found = found || e == out;
    if (has_dynamic && out.is_string())
      for (const std::string& e : *dynamic_enum) found = found || e == out.as_string();
    if (!found) {
      std::string list;
      size_t shown = 0;
      auto add = [&](const std::string& s) {
        if (shown++ < 40) list += (list.empty() ? "" : ", ") + s;
      };
      for (const JsonValue& e : f.enum_values) add(e.dump());
      if (has_dynamic)
        for (const std::string& e : *dynamic_enum) add(JsonValue::string(e).dump());
      if (shown > 40) list += ", ...";
      throw fail("must be one of [" + list + "] (got " + value_text(value) + ")");
    }
  }
  return out;
}

}  // namespace vkdream::workflows
