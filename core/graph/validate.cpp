#include "graph/validate.h"

#include <algorithm>
#include <map>
#include <set>

#include "graph/node_call.h"
#include "graph/py_coerce.h"

namespace vkdream::graph {

JsonValue make_error(const std::string& type, const std::string& message, const std::string& details,
                     JsonValue extra_info) {
  JsonValue e = JsonValue::object();
  e.set("type", JsonValue::string(type));
  e.set("message", JsonValue::string(message));
  e.set("details", JsonValue::string(details));
  e.set("extra_info", std::move(extra_info));
  return e;
}

JsonValue ValidationResult::error_response() const {
  JsonValue r = JsonValue::object();
  r.set("error", error.is_null() ? make_error("", "", "") : error);
  r.set("node_errors", node_errors);
  return r;
}

bool types_compatible(const std::string& received, const std::string& input_type) {
  if (received == input_type || received == "*" || input_type == "*") return true;
  auto split = [](const std::string& s) {
    std::set<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(',', start);
      if (end == std::string::npos) end = s.size();
      std::string t = s.substr(start, end - start);
      size_t b = t.find_first_not_of(" \t"), e = t.find_last_not_of(" \t");
      out.insert(b == std::string::npos ? "" : t.substr(b, e - b + 1));
      start = end + 1;
    }
    return out;
  };
  auto a = split(received), b = split(input_type);
  for (const auto& t : a)
    if (b.count(t)) return true;
  return false;
}

namespace {

// A Python exception raised inside validate_inputs (propagates to the caller's try, as in ComfyUI).
struct PyError {
  std::string type;
  std::string message;
  std::string code;  // the statement that raised, for the traceback
};

struct Entry {
  bool valid = true;
  JsonValue errors = JsonValue::array();
};

JsonValue traceback(const std::string& where, const std::string& code) {
  JsonValue tb = JsonValue::array();
  tb.push(JsonValue::string("  File \"core/graph/validate.cpp\", in " + where + "\n"));
  tb.push(JsonValue::string("  File \"core/graph/validate.cpp\", in validate_inputs\n    " + code + "\n"));
  return tb;
}

class Validator {
 public:
  Validator(Prompt& prompt, const NodeRegistry& reg) : prompt_(prompt), reg_(reg) {}

  // validated: insertion-ordered like a Python dict (re-assignment keeps the position).
  std::vector<std::pair<std::string, Entry>> validated;

  void set_validated(const std::string& id, Entry e) {
    auto it = index_.find(id);
    if (it != index_.end()) {
      validated[it->second].second = std::move(e);
    } else {
      index_[id] = validated.size();
      validated.emplace_back(id, std::move(e));
    }
  }

  Entry validate_inputs(const std::string& id) {
    if (auto it = index_.find(id); it != index_.end()) return validated[it->second].second;
    // A node already being validated further up: ComfyUI recurses until RecursionError and every frame of
    // the cycle then records itself as invalid without reasons. Returning "invalid, no reasons" here gives
    // the same final answer.
    if (in_progress_.count(id)) return Entry{false, JsonValue::array()};
    in_progress_.insert(id);
    struct Guard {
      std::set<std::string>& s;
      std::string id;
      ~Guard() { s.erase(id); }
    } guard{in_progress_, id};

    PromptNode* node = prompt_.find(id);
    if (!node->has_inputs) throw PyError{"KeyError", "'inputs'", "inputs = prompt[unique_id]['inputs']"};
    const NodeClass* nc = reg_.find(node->class_type);
    std::set<std::string> validate_names(nc->validate_inputs.begin(), nc->validate_inputs.end());

    Entry result;
    JsonValue& errors = result.errors;
    bool valid = true;
    for (const InputSpec& spec : nc->inputs) {
      if (spec.category == VKD_INPUT_HIDDEN) continue;
      const std::string& x = spec.name;
      JsonValue* slot = node->inputs.is_object() ? node->inputs.find(x) : nullptr;
      if (!slot) {
        if (spec.category == VKD_INPUT_REQUIRED) {
          JsonValue extra = JsonValue::object();
          extra.set("input_name", JsonValue::string(x));
          errors.push(make_error("required_input_missing", "Required input is missing", x, std::move(extra)));
        }
        continue;
      }
      JsonValue val = *slot;
      if (is_link(val)) {
        if (val.size() != 2) {
          JsonValue extra = JsonValue::object();
          extra.set("input_name", JsonValue::string(x));
          extra.set("input_config", reg_.input_config(spec));
          extra.set("received_value", val);
          errors.push(make_error("bad_linked_input",
                                 "Bad linked input, must be a length-2 list of [node_id, slot_index]", x,
                                 std::move(extra)));
          continue;
        }
        const JsonValue& o_id = val.items()[0];
        const PromptNode* o_node = nullptr;
        if (o_id.is_array() || o_id.is_object())
          throw PyError{"TypeError", std::string("unhashable type: '") + o_id.py_type_name() + "'",
                        "o_class_type = prompt[o_id]['class_type']"};
        if (o_id.is_string()) o_node = prompt_.find(o_id.as_string());
        if (!o_node) throw PyError{"KeyError", o_id.py_repr(), "o_class_type = prompt[o_id]['class_type']"};
        const NodeClass* o_class = reg_.find(o_node->class_type);
        const JsonValue& slot_v = val.items()[1];
        if (!slot_v.is_int() && !slot_v.is_bool())
          throw PyError{"TypeError",
                        std::string("tuple indices must be integers or slices, not ") + slot_v.py_type_name(),
                        "received_type = r[val[1]]"};
        Int128 n = static_cast<Int128>(o_class->outputs.size());
        Int128 idx = slot_v.is_bool() ? Int128(slot_v.as_bool()) : slot_v.as_int();
        if (slot_v.int_overflow() || idx >= n || idx < -n)
          throw PyError{"IndexError", "tuple index out of range", "received_type = r[val[1]]"};
        if (idx < 0) idx += n;
        const std::string& received_type = o_class->outputs[static_cast<size_t>(idx)].type;
        bool wants_types = validate_names.count("input_types") > 0;
        bool compatible = spec.is_combo() ? (received_type == "COMBO" || received_type == "*")
                                          : types_compatible(received_type, spec.type);
        if (!wants_types && !compatible) {
          std::string input_type = spec.is_combo() ? reg_.input_config(spec).items()[0].py_str() : spec.type;
          JsonValue extra = JsonValue::object();
          extra.set("input_name", JsonValue::string(x));
          extra.set("input_config", reg_.input_config(spec));
          extra.set("received_type", JsonValue::string(received_type));
          extra.set("linked_node", val);
          errors.push(make_error("return_type_mismatch", "Return type mismatch between linked nodes",
                                 x + ", received_type(" + received_type + ") mismatch input_type(" + input_type + ")",
                                 std::move(extra)));
          continue;
        }
        try {
          Entry r = validate_inputs(o_id.as_string());
          if (!r.valid) valid = false;
        } catch (const PyError& ex) {
          valid = false;
          JsonValue extra = JsonValue::object();
          extra.set("input_name", JsonValue::string(x));
          extra.set("input_config", reg_.input_config(spec));
          extra.set("exception_message", JsonValue::string(ex.message));
          extra.set("exception_type", JsonValue::string(ex.type));
          extra.set("traceback", traceback("validate_inputs", ex.code));
          extra.set("linked_node", val);
          Entry bad;
          bad.valid = false;
          bad.errors.push(make_error("exception_during_inner_validation", "Exception when validating inner node",
                                     ex.message, std::move(extra)));
          set_validated(o_id.as_string(), std::move(bad));
        }
        continue;
      }

      // A literal. {"__value__": v} carries list-valued widgets.
      if (val.is_object())
        if (const JsonValue* inner = val.find("__value__")) {
          val = *inner;
          *slot = val;
        }
      PyCoerceError cerr;
      std::optional<JsonValue> coerced = val;
      if (spec.type == "INT") coerced = py_int(val, cerr);
      else if (spec.type == "FLOAT") coerced = py_float(val, cerr);
      else if (spec.type == "STRING") coerced = py_str_value(val);
      else if (spec.type == "BOOLEAN") coerced = py_bool_value(val);
      if (!coerced) {
        JsonValue extra = JsonValue::object();
        extra.set("input_name", JsonValue::string(x));
        extra.set("input_config", reg_.input_config(spec));
        extra.set("received_value", val);
        extra.set("exception_message", JsonValue::string(cerr.message));
        errors.push(make_error("invalid_input_type", "Failed to convert an input value to a " + spec.type + " value",
                               x + ", " + val.py_str() + ", " + cerr.message, std::move(extra)));
        continue;
      }
      val = *coerced;
      *slot = val;

      if (validate_names.count(x)) continue;  // the node's own VALIDATE_INPUTS checks it
      auto range_error = [&](const char* type, const char* word, const JsonValue& bound) {
        JsonValue extra = JsonValue::object();
        extra.set("input_name", JsonValue::string(x));
        extra.set("input_config", reg_.input_config(spec));
        extra.set("received_value", val);
        errors.push(make_error(type, "Value " + val.py_str() + " " + word + " of " + bound.py_str(), x,
                               std::move(extra)));
      };
      JsonValue mn = spec.min_value(), mx = spec.max_value();
      if (!mn.is_null() && py_less(val, mn)) {
        range_error("value_smaller_than_min", "smaller than min", mn);
        continue;
      }
      if (!mx.is_null() && py_less(mx, val)) {
        range_error("value_bigger_than_max", "bigger than max", mx);
        continue;
      }
      if (spec.is_combo()) {
        std::vector<std::string> options = reg_.combo_options(spec);
        bool found = val.is_string() && std::find(options.begin(), options.end(), val.as_string()) != options.end();
        if (!found) {
          JsonValue input_config = reg_.input_config(spec);
          std::string list_info;
          if (options.size() > 20) {
            list_info = "(list of length " + std::to_string(options.size()) + ")";
            input_config = JsonValue::null();
          } else {
            list_info = input_config.items()[0].py_str();
          }
          JsonValue extra = JsonValue::object();
          extra.set("input_name", JsonValue::string(x));
          extra.set("input_config", std::move(input_config));
          extra.set("received_value", val);
          errors.push(make_error("value_not_in_list", "Value not in list",
                                 x + ": '" + val.py_str() + "' not in " + list_info, std::move(extra)));
          continue;
        }
      }
    }

    if (nc->validate && !nc->validate_inputs.empty()) run_custom_validation(*node, *nc, errors);

    result.valid = valid && errors.size() == 0;
    set_validated(id, result);
    return result;
  }

 private:
  // VALIDATE_INPUTS: literal inputs it names (links as None); a failure is reported once per such input.
  void run_custom_validation(const PromptNode& node, const NodeClass& nc, JsonValue& errors) {
    NodeCall call(nc, node.id, reg_.host());
    std::vector<std::string> filtered;
    for (const auto& name : nc.validate_inputs) {
      int k = nc.input_index(name);
      if (k < 0) continue;
      const JsonValue* v = node.inputs.is_object() ? node.inputs.find(name) : nullptr;
      if (!v) continue;
      filtered.push_back(name);
      if (!is_link(*v)) call.set_literal(static_cast<size_t>(k), *v);
    }
    VkdStatus st = call.call(nc.validate);
    if (st == VKD_OK) return;
    if (!call.error_type().empty() && call.error_type() != "ValidationError")
      throw PyError{call.error_type(), call.error_message(), "ret = obj_class.VALIDATE_INPUTS(**input_filtered)"};
    for (const auto& x : filtered) {
      std::string details = x;
      if (!call.error_message().empty()) details += " - " + call.error_message();
      JsonValue extra = JsonValue::object();
      extra.set("input_name", JsonValue::string(x));
      errors.push(make_error("custom_validation_failed", "Custom validation failed for node", details,
                             std::move(extra)));
    }
  }

  Prompt& prompt_;
  const NodeRegistry& reg_;
  std::map<std::string, size_t> index_;
  std::set<std::string> in_progress_;
};

}  // namespace

ValidationResult validate_prompt(const Prompt& input_prompt, const NodeRegistry& registry,
                                 const std::vector<std::string>* partial_targets) {
  ValidationResult res;
  res.prompt = input_prompt;
  Prompt& prompt = res.prompt;

  std::vector<std::string> outputs;
  for (const PromptNode& n : prompt.nodes) {
    if (!n.is_object || !n.has_class_type) {
      res.error = make_error("invalid_prompt", "Cannot execute because a node is missing the class_type property.",
                             "Node ID '#" + n.id + "'");
      return res;
    }
    const NodeClass* nc = registry.find(n.class_type);
    if (!n.class_type_value.is_string() || !nc) {
      res.error = make_error("invalid_prompt", "Cannot execute because node " + n.class_type + " does not exist.",
                             "Node ID '#" + n.id + "'");
      return res;
    }
    if (nc->output_node()) {
      if (!partial_targets ||
          std::find(partial_targets->begin(), partial_targets->end(), n.id) != partial_targets->end())
        outputs.push_back(n.id);
    }
  }
  if (outputs.empty()) {
    res.error = make_error("prompt_no_outputs", "Prompt has no outputs", "");
    return res;
  }

  Validator v(prompt, registry);
  std::vector<std::pair<std::string, JsonValue>> failed;  // (output, its own reasons)
  for (const std::string& o : outputs) {
    Entry m;
    try {
      m = v.validate_inputs(o);
    } catch (const PyError& ex) {
      JsonValue extra = JsonValue::object();
      extra.set("exception_type", JsonValue::string(ex.type));
      extra.set("traceback", traceback("validate_prompt", ex.code));
      m.valid = false;
      m.errors = JsonValue::array();
      m.errors.push(make_error("exception_during_validation", "Exception when validating node", ex.message,
                               std::move(extra)));
      v.set_validated(o, m);
    }
    if (m.valid) {
      res.good_outputs.push_back(o);
      continue;
    }
    failed.emplace_back(o, m.errors);
    for (const auto& [node_id, entry] : v.validated) {
      if (entry.valid || entry.errors.size() == 0) continue;
      JsonValue* ne = res.node_errors.find(node_id);
      if (!ne) {
        JsonValue obj = JsonValue::object();
        obj.set("errors", entry.errors);
        obj.set("dependent_outputs", JsonValue::array());
        obj.set("class_type", JsonValue::string(prompt.find(node_id)->class_type));
        ne = &res.node_errors.set(node_id, std::move(obj));
      }
      ne->find("dependent_outputs")->push(JsonValue::string(o));
    }
  }

  if (res.good_outputs.empty()) {
    std::string details;
    for (const auto& [o, reasons] : failed)
      for (const auto& e : reasons.items()) {
        if (!details.empty()) details += "\n";
        details += e.find("message")->as_string() + ": " + e.find("details")->as_string();
      }
    res.error = make_error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details);
    return res;
  }
  res.ok = true;
  return res;
}

}  // namespace vkdream::graph
