// A small ordered JSON tree with Python semantics, for prompts and ComfyUI's answers: integers are exact
// (128-bit, so 2^64 seeds compare as Python ints do), objects keep key order, floats print as Python's repr.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vkdream::graph {

using Int128 = __int128;

class JsonValue {
 public:
  enum class Kind { Null, Bool, Int, Float, String, Array, Object };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default;
  static JsonValue null() { return JsonValue(); }
  static JsonValue boolean(bool b);
  static JsonValue integer(Int128 i);
  static JsonValue big_integer(std::string digits, bool negative);  // beyond 128 bits: kept as text
  static JsonValue number(double f);
  static JsonValue string(std::string s);
  static JsonValue array(std::vector<JsonValue> items = {});
  static JsonValue object(std::vector<Member> members = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  bool as_bool() const { return b_; }
  Int128 as_int() const { return i_; }
  bool int_overflow() const { return big_; }  // an integer wider than 128 bits (text in as_string())
  double as_float() const { return f_; }
  const std::string& as_string() const { return s_; }
  const std::vector<JsonValue>& items() const { return arr_; }
  std::vector<JsonValue>& items() { return arr_; }
  const std::vector<Member>& members() const { return obj_; }
  std::vector<Member>& members() { return obj_; }

  // Object access (last one wins on duplicate keys, as Python's json does when parsing).
  const JsonValue* find(std::string_view key) const;
  JsonValue* find(std::string_view key);
  JsonValue& set(std::string key, JsonValue v);  // replaces or appends
  void push(JsonValue v) { arr_.push_back(std::move(v)); }
  size_t size() const { return kind_ == Kind::Array ? arr_.size() : obj_.size(); }

  // JSON text. Floats as Python's repr ("8.0", "1e-05"), non-finite as null.
  std::string dump() const;
  void dump_to(std::string& out) const;

  // Python's str() and repr() of the value as json.loads would have produced it.
  std::string py_str() const;
  std::string py_repr() const;
  // Python's name for the type: "int", "str", "NoneType", "dict", ...
  const char* py_type_name() const;

  // Structural equality; numbers compare by value across int/float (Python's ==, bool == int too).
  bool operator==(const JsonValue& o) const;

 private:
  Kind kind_ = Kind::Null;
  bool b_ = false;
  bool big_ = false;
  Int128 i_ = 0;
  double f_ = 0;
  std::string s_;
  std::vector<JsonValue> arr_;
  std::vector<Member> obj_;
};

struct JsonLimits {
  int max_depth = 64;                       // nesting of arrays/objects
  size_t max_string_bytes = 1u << 20;       // any one string (1 MiB)
};

class JsonParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses JSON text (simdjson) with the limits; throws JsonParseError with a clear message.
JsonValue parse_json(std::string_view text, const JsonLimits& limits = {});

// Helpers shared with the validator and the /object_info writer.
std::string int128_to_string(Int128 v);
std::string py_float_repr(double f);          // Python repr(float)
std::string py_string_repr(std::string_view s);  // Python repr(str): 'a', "it's"
void json_escape_to(std::string& out, std::string_view s);

}  // namespace vkdream::graph
