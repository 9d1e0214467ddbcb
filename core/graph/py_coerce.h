// ComfyUI coerces literal widget values with Python's int(), float(), str() and bool(); these reproduce the
// results and the exception messages ("invalid literal for int() with base 10: 'eight'").
#pragma once

#include <optional>
#include <string>

#include "graph/json_value.h"

namespace vkdream::graph {

struct PyCoerceError {
  std::string type;     // "ValueError", "TypeError", "OverflowError"
  std::string message;
};

// Each returns the converted value, or fills err and returns nullopt.
std::optional<JsonValue> py_int(const JsonValue& v, PyCoerceError& err);
std::optional<JsonValue> py_float(const JsonValue& v, PyCoerceError& err);
JsonValue py_str_value(const JsonValue& v);
JsonValue py_bool_value(const JsonValue& v);

// Python's `a < b` for two numeric values (int, float or bool); false when either is not numeric.
bool py_less(const JsonValue& a, const JsonValue& b);

}  // namespace vkdream::graph
