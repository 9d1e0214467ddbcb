#include "graph/json_value.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace vkdream::graph {

JsonValue JsonValue::boolean(bool b) {
  JsonValue v;
  v.kind_ = Kind::Bool;
  v.b_ = b;
  return v;
}
JsonValue JsonValue::integer(Int128 i) {
  JsonValue v;
  v.kind_ = Kind::Int;
  v.i_ = i;
  return v;
}
JsonValue JsonValue::big_integer(std::string digits, bool negative) {
  JsonValue v;
  v.kind_ = Kind::Int;
  v.big_ = true;
  v.i_ = negative ? -1 : 1;  // sign only
  v.s_ = (negative ? "-" : "") + digits;
  return v;
}
JsonValue JsonValue::number(double f) {
  JsonValue v;
  v.kind_ = Kind::Float;
  v.f_ = f;
  return v;
}
JsonValue JsonValue::string(std::string s) {
  JsonValue v;
  v.kind_ = Kind::String;
  v.s_ = std::move(s);
  return v;
}
JsonValue JsonValue::array(std::vector<JsonValue> items) {
  JsonValue v;
  v.kind_ = Kind::Array;
  v.arr_ = std::move(items);
  return v;
}
JsonValue JsonValue::object(std::vector<Member> members) {
  JsonValue v;
  v.kind_ = Kind::Object;
  v.obj_ = std::move(members);
  return v;
}

const JsonValue* JsonValue::find(std::string_view key) const {
  if (kind_ != Kind::Object) return nullptr;
  for (auto it = obj_.rbegin(); it != obj_.rend(); ++it)
    if (it->first == key) return &it->second;
  return nullptr;
}
JsonValue* JsonValue::find(std::string_view key) {
  return const_cast<JsonValue*>(static_cast<const JsonValue*>(this)->find(key));
}
JsonValue& JsonValue::set(std::string key, JsonValue v) {
  if (kind_ != Kind::Object) *this = object();
  for (auto& m : obj_)
    if (m.first == key) return m.second = std::move(v);
  obj_.emplace_back(std::move(key), std::move(v));
  return obj_.back().second;
}

std::string int128_to_string(Int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  char buf[48];
  int n = 0;
  while (u > 0) {
    buf[n++] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  std::string s = neg ? "-" : "";
  while (n > 0) s += buf[--n];
  return s;
}

std::string py_float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f < 0 ? "-inf" : "inf";
  if (f == 0) return std::signbit(f) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci: [-]d[.ddd]e[+-]XX
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  int exp = std::stoi(sci.substr(epos + 1));
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = neg ? "-" : "";
  if (exp >= -4 && exp < 16) {
    int n = static_cast<int>(digits.size());
    if (exp >= 0) {
      if (n <= exp + 1) {
        out += digits + std::string(exp + 1 - n, '0') + ".0";
      } else {
        out += digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
      }
    } else {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    char e[16];
    std::snprintf(e, sizeof(e), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += e;
  }
  return out;
}

std::string py_string_repr(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char q = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    if (c == q || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof(b), "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += q;
  return out;
}

void json_escape_to(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof(b), "\\u%04x", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void JsonValue::dump_to(std::string& out) const {
  switch (kind_) {
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += b_ ? "true" : "false"; break;
    case Kind::Int: out += big_ ? s_ : int128_to_string(i_); break;
    case Kind::Float: out += std::isfinite(f_) ? py_float_repr(f_) : "null"; break;
    case Kind::String: json_escape_to(out, s_); break;
    case Kind::Array:
      out += '[';
      for (size_t k = 0; k < arr_.size(); ++k) {
        if (k) out += ", ";
        arr_[k].dump_to(out);
      }
      out += ']';
      break;
    case Kind::Object:
      out += '{';
      for (size_t k = 0; k < obj_.size(); ++k) {
        if (k) out += ", ";
        json_escape_to(out, obj_[k].first);
        out += ": ";
        obj_[k].second.dump_to(out);
      }
      out += '}';
      break;
  }
}
std::string JsonValue::dump() const {
  std::string s;
  dump_to(s);
  return s;
}

std::string JsonValue::py_str() const {
  switch (kind_) {
    case Kind::Null: return "None";
    case Kind::Bool: return b_ ? "True" : "False";
    case Kind::Int: return big_ ? s_ : int128_to_string(i_);
    case Kind::Float: return py_float_repr(f_);
    case Kind::String: return s_;
    case Kind::Array: {
      std::string s = "[";
      for (size_t k = 0; k < arr_.size(); ++k) s += (k ? ", " : "") + arr_[k].py_repr();
      return s + "]";
    }
    case Kind::Object: {
      std::string s = "{";
      for (size_t k = 0; k < obj_.size(); ++k)
        s += (k ? ", " : "") + py_string_repr(obj_[k].first) + ": " + obj_[k].second.py_repr();
      return s + "}";
    }
  }
  return "";
}
std::string JsonValue::py_repr() const { return kind_ == Kind::String ? py_string_repr(s_) : py_str(); }

const char* JsonValue::py_type_name() const {
  switch (kind_) {
    case Kind::Null: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Array: return "list";
    case Kind::Object: return "dict";
  }
  return "object";
}

static bool numeric(const JsonValue& v) { return v.is_number() || v.is_bool(); }
static long double numeric_value(const JsonValue& v) {
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  if (v.is_float()) return v.as_float();
  if (v.int_overflow()) return v.as_int() < 0 ? -HUGE_VALL : HUGE_VALL;
  return static_cast<long double>(v.as_int());
}

bool JsonValue::operator==(const JsonValue& o) const {
  if (numeric(*this) && numeric(o)) {
    if ((is_int() || is_bool()) && (o.is_int() || o.is_bool()) && !big_ && !o.big_) {
      Int128 a = is_bool() ? Int128(b_) : i_, b = o.is_bool() ? Int128(o.b_) : o.i_;
      return a == b;
    }
    if (big_ || o.big_) return big_ && o.big_ && s_ == o.s_;
    return numeric_value(*this) == numeric_value(o);
  }
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::Null: return true;
    case Kind::String: return s_ == o.s_;
    case Kind::Array: return arr_ == o.arr_;
    case Kind::Object: {
      if (obj_.size() != o.obj_.size()) return false;
      for (const auto& m : obj_) {
        const JsonValue* other = o.find(m.first);
        if (!other || !(*other == m.second)) return false;
      }
      return true;
    }
    default: return false;
  }
}

// ---- parsing -------------------------------------------------------------------------------------------
namespace {
namespace od = simdjson::ondemand;

[[noreturn]] void fail(const std::string& what) { throw JsonParseError(what); }

JsonValue number_from_token(std::string_view tok) {
  while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\n' || tok.back() == '\r' || tok.back() == '\t'))
    tok.remove_suffix(1);
  bool is_float = tok.find_first_of(".eE") != std::string_view::npos;
  if (is_float) {
    double d = 0;
    auto r = std::from_chars(tok.data(), tok.data() + tok.size(), d);
    if (r.ec == std::errc::result_out_of_range) d = tok[0] == '-' ? -HUGE_VAL : HUGE_VAL;  // Python: inf
    else if (r.ec != std::errc()) fail("invalid JSON number");
    return JsonValue::number(d);
  }
  bool neg = !tok.empty() && tok[0] == '-';
  std::string_view digits = neg ? tok.substr(1) : tok;
  if (digits.size() > 38) return JsonValue::big_integer(std::string(digits), neg);
  Int128 v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') fail("invalid JSON number");
    v = v * 10 + (c - '0');
  }
  return JsonValue::integer(neg ? -v : v);
}

JsonValue parse_value(od::value v, int depth, const JsonLimits& lim);

JsonValue parse_container_or_scalar(od::json_type t, od::value v, int depth, const JsonLimits& lim) {
  switch (t) {
    case od::json_type::object: {
      if (depth + 1 > lim.max_depth)
        fail("JSON nesting depth exceeds the limit of " + std::to_string(lim.max_depth));
      od::object obj;
      if (v.get_object().get(obj)) fail("invalid JSON object");
      JsonValue out = JsonValue::object();
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) fail("invalid JSON object key");
        if (key.size() > lim.max_string_bytes)
          fail("JSON string longer than the limit of " + std::to_string(lim.max_string_bytes) + " bytes");
        std::string k(key);
        od::value child;
        if (field.value().get(child)) fail("invalid JSON value");
        JsonValue cv = parse_value(child, depth + 1, lim);
        out.set(std::move(k), std::move(cv));  // duplicate keys: the last one wins
      }
      return out;
    }
    case od::json_type::array: {
      if (depth + 1 > lim.max_depth)
        fail("JSON nesting depth exceeds the limit of " + std::to_string(lim.max_depth));
      od::array arr;
      if (v.get_array().get(arr)) fail("invalid JSON array");
      JsonValue out = JsonValue::array();
      for (auto el : arr) {
        od::value child;
        if (el.get(child)) fail("invalid JSON array element");
        out.push(parse_value(child, depth + 1, lim));
      }
      return out;
    }
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) fail("invalid JSON string");
      if (s.size() > lim.max_string_bytes)
        fail("JSON string longer than the limit of " + std::to_string(lim.max_string_bytes) + " bytes");
      return JsonValue::string(std::string(s));
    }
    case od::json_type::number: {
      std::string_view tok = v.raw_json_token();
      double d;
      if (v.get_double().get(d)) {
        // simdjson refuses some very large integers as doubles; accept plain digit strings anyway.
        std::string_view t = tok;
        while (!t.empty() && (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t'))
          t.remove_suffix(1);
        size_t k = (!t.empty() && t[0] == '-') ? 1 : 0;
        if (k >= t.size() || t.find_first_not_of("0123456789", k) != std::string_view::npos)
          fail("invalid JSON number");
      }
      return number_from_token(tok);
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) fail("invalid JSON literal");
      return JsonValue::boolean(b);
    }
    case od::json_type::null: {
      bool is_null = false;  // .get(): a result's bool conversion throws simdjson_error on a bad literal
      if (v.is_null().get(is_null) || !is_null) fail("invalid JSON literal");
      return JsonValue::null();
    }
  }
  fail("invalid JSON");
}

JsonValue parse_value(od::value v, int depth, const JsonLimits& lim) {
  od::json_type t;
  if (v.type().get(t)) fail("invalid JSON");
  return parse_container_or_scalar(t, v, depth, lim);
}
}  // namespace

JsonValue parse_json(std::string_view text, const JsonLimits& limits) {
  simdjson::padded_string padded(text);
  od::parser parser;
  od::document doc;
  auto err = parser.iterate(padded).get(doc);
  if (err) fail(std::string("invalid JSON: ") + simdjson::error_message(err));
  od::json_type t;
  if (doc.type().get(t)) fail("invalid JSON");
  JsonValue out;
  if (t == od::json_type::object || t == od::json_type::array) {
    od::value root;
    if (doc.get_value().get(root)) fail("invalid JSON");
    out = parse_container_or_scalar(t, root, 0, limits);
  } else {
    // Scalar roots: parse the text again wrapped in an array (the ondemand API reads scalars via value).
    std::string wrapped(1, '[');
    wrapped.append(text);
    wrapped += ']';
    JsonValue arr = parse_json(wrapped, limits);
    if (arr.size() != 1) fail("invalid JSON");
    return arr.items()[0];
  }
  if (doc.current_location().error() == simdjson::SUCCESS) fail("invalid JSON: trailing content");
  return out;
}

}  // namespace vkdream::graph
