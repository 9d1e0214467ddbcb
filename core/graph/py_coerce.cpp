#include "graph/py_coerce.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace vkdream::graph {
namespace {

std::string strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Removes single underscores between digits (Python allows "1_000"); false when misplaced.
bool remove_underscores(std::string& s) {
  std::string out;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '_') {
      if (k == 0 || k + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[k - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[k + 1])))
        return false;
      continue;
    }
    out += s[k];
  }
  s = out;
  return true;
}

}  // namespace

std::optional<JsonValue> py_int(const JsonValue& v, PyCoerceError& err) {
  switch (v.kind()) {
    case JsonValue::Kind::Bool: return JsonValue::integer(v.as_bool() ? 1 : 0);
    case JsonValue::Kind::Int: return v;
    case JsonValue::Kind::Float: {
      double f = v.as_float();
      if (std::isnan(f)) {
        err = {"ValueError", "cannot convert float NaN to integer"};
        return std::nullopt;
      }
      if (std::isinf(f)) {
        err = {"OverflowError", "cannot convert float infinity to integer"};
        return std::nullopt;
      }
      double t = std::trunc(f);
      if (std::fabs(t) < 1.7e38) return JsonValue::integer(static_cast<Int128>(t));
      char buf[400];
      auto r = std::to_chars(buf, buf + sizeof(buf), std::fabs(t), std::chars_format::fixed, 0);
      return JsonValue::big_integer(std::string(buf, r.ptr), t < 0);
    }
    case JsonValue::Kind::String: {
      std::string s = strip(v.as_string());
      bool neg = false;
      size_t k = 0;
      if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        k = 1;
      }
      std::string digits = s.substr(k);
      bool ok = !digits.empty() && remove_underscores(digits) && !digits.empty();
      for (char c : digits) ok = ok && std::isdigit(static_cast<unsigned char>(c));
      if (!ok) {
        err = {"ValueError", "invalid literal for int() with base 10: " + py_string_repr(v.as_string())};
        return std::nullopt;
      }
      size_t nz = digits.find_first_not_of('0');
      digits = nz == std::string::npos ? "0" : digits.substr(nz);
      if (digits.size() > 38) return JsonValue::big_integer(digits, neg);
      Int128 x = 0;
      for (char c : digits) x = x * 10 + (c - '0');
      return JsonValue::integer(neg ? -x : x);
    }
    default:
      err = {"TypeError", std::string("int() argument must be a string, a bytes-like object or a real number, not '") +
                              v.py_type_name() + "'"};
      return std::nullopt;
  }
}

std::optional<JsonValue> py_float(const JsonValue& v, PyCoerceError& err) {
  switch (v.kind()) {
    case JsonValue::Kind::Bool: return JsonValue::number(v.as_bool() ? 1.0 : 0.0);
    case JsonValue::Kind::Float: return v;
    case JsonValue::Kind::Int: {
      if (v.int_overflow()) {
        if (v.as_string().size() > 309) {
          err = {"OverflowError", "int too large to convert to float"};
          return std::nullopt;
        }
        return JsonValue::number(std::strtod(v.as_string().c_str(), nullptr));
      }
      return JsonValue::number(static_cast<double>(v.as_int()));
    }
    case JsonValue::Kind::String: {
      std::string s = strip(v.as_string());
      std::string body = s;
      std::string sign;
      if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
        sign = body.substr(0, 1);
        body = body.substr(1);
      }
      std::string lower;
      for (char c : body) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "inf" || lower == "infinity") return JsonValue::number(sign == "-" ? -HUGE_VAL : HUGE_VAL);
      if (lower == "nan") return JsonValue::number(std::nan(""));
      // [digits][.digits][e[+-]digits], at least one digit in the mantissa, underscores between digits.
      bool ok = remove_underscores(body);
      size_t k = 0, mant = 0;
      while (ok && k < body.size() && std::isdigit(static_cast<unsigned char>(body[k]))) ++k, ++mant;
      if (ok && k < body.size() && body[k] == '.') {
        ++k;
        while (k < body.size() && std::isdigit(static_cast<unsigned char>(body[k]))) ++k, ++mant;
      }
      ok = ok && mant > 0;
      if (ok && k < body.size() && (body[k] == 'e' || body[k] == 'E')) {
        ++k;
        if (k < body.size() && (body[k] == '+' || body[k] == '-')) ++k;
        size_t ed = 0;
        while (k < body.size() && std::isdigit(static_cast<unsigned char>(body[k]))) ++k, ++ed;
        ok = ed > 0;
      }
      ok = ok && k == body.size();
      if (!ok) {
        err = {"ValueError", "could not convert string to float: " + py_string_repr(v.as_string())};
        return std::nullopt;
      }
      return JsonValue::number(std::strtod((sign + body).c_str(), nullptr));
    }
    default:
      err = {"TypeError",
             std::string("float() argument must be a string or a real number, not '") + v.py_type_name() + "'"};
      return std::nullopt;
  }
}

JsonValue py_str_value(const JsonValue& v) { return JsonValue::string(v.py_str()); }

JsonValue py_bool_value(const JsonValue& v) {
  switch (v.kind()) {
    case JsonValue::Kind::Null: return JsonValue::boolean(false);
    case JsonValue::Kind::Bool: return v;
    case JsonValue::Kind::Int: return JsonValue::boolean(v.int_overflow() || v.as_int() != 0);
    case JsonValue::Kind::Float: return JsonValue::boolean(v.as_float() != 0.0);
    case JsonValue::Kind::String: return JsonValue::boolean(!v.as_string().empty());
    default: return JsonValue::boolean(v.size() != 0);
  }
}

bool py_less(const JsonValue& a, const JsonValue& b) {
  auto is_num = [](const JsonValue& v) { return v.is_number() || v.is_bool(); };
  if (!is_num(a) || !is_num(b)) return false;
  auto exact = [](const JsonValue& v) { return v.is_bool() || (v.is_int() && !v.int_overflow()); };
  auto ival = [](const JsonValue& v) { return v.is_bool() ? Int128(v.as_bool()) : v.as_int(); };
  if (exact(a) && exact(b)) return ival(a) < ival(b);
  auto fval = [](const JsonValue& v) -> long double {
    if (v.is_bool()) return v.as_bool() ? 1 : 0;
    if (v.is_float()) return v.as_float();
    if (v.int_overflow()) return v.as_int() < 0 ? -HUGE_VALL : HUGE_VALL;
    return static_cast<long double>(v.as_int());
  };
  return fval(a) < fval(b);
}

}  // namespace vkdream::graph
