#include "graph/node_registry.h"

#include "graph/host.h"

#include <cstring>

namespace vkdream::graph {

namespace {
const char* s_or(const char* s, const char* fallback = "") { return s ? s : fallback; }

// Whether `field` of a struct that announced `size` bytes is present.
template <class S, class F>
bool has_field(const S& s, F S::*field) {
  size_t offset = reinterpret_cast<size_t>(&(reinterpret_cast<const S*>(0)->*field));
  return s.struct_size >= offset + sizeof(F);
}

// Element k of an array of ABI structs whose stride is the plugin's struct_size (which may be smaller or larger
// than this host's); fields the plugin did not have read as zero.
template <class S>
S read_struct(const S* base, uint32_t k) {
  S s{};
  uint32_t stride = base[0].struct_size;
  if (stride < sizeof(uint32_t)) return s;
  const char* p = reinterpret_cast<const char*>(base) + static_cast<size_t>(k) * stride;
  size_t n = stride < sizeof(S) ? stride : sizeof(S);
  std::memcpy(static_cast<void*>(&s), p, n);
  s.struct_size = static_cast<uint32_t>(n);
  return s;
}

JsonValue int_json(int64_t v, bool is_unsigned) {
  return is_unsigned ? JsonValue::integer(static_cast<Int128>(static_cast<uint64_t>(v))) : JsonValue::integer(v);
}
}  // namespace

JsonValue InputSpec::min_value() const {
  if (!(flags & VKD_INPUT_FLAG_MIN)) return JsonValue::null();
  return type == "FLOAT" ? JsonValue::number(float_min) : int_json(int_min, is_unsigned());
}
JsonValue InputSpec::max_value() const {
  if (!(flags & VKD_INPUT_FLAG_MAX)) return JsonValue::null();
  return type == "FLOAT" ? JsonValue::number(float_max) : int_json(int_max, is_unsigned());
}

const InputSpec* NodeClass::find_input(std::string_view name) const {
  for (const auto& in : inputs)
    if (in.name == name) return &in;
  return nullptr;
}
int NodeClass::input_index(std::string_view name) const {
  for (size_t k = 0; k < inputs.size(); ++k)
    if (inputs[k].name == name) return static_cast<int>(k);
  return -1;
}

bool NodeRegistry::add(const VkdNodeDecl& d, const std::string& origin, std::string* error) {
  auto fail = [&](const std::string& msg) {
    if (error) *error = msg;
    return false;
  };
  if (d.struct_size < offsetof(VkdNodeDecl, user_data)) return fail(origin + ": node declaration too small");
  if (!d.class_type || !*d.class_type) return fail(origin + ": a node declaration has no class_type");
  auto existing = classes_.find(std::string_view(d.class_type));
  if (existing != classes_.end())
    return fail("duplicate node class '" + std::string(d.class_type) + "': declared by " + existing->second.origin +
                " and by " + origin + " (the second is ignored)");
  NodeClass nc;
  nc.class_type = d.class_type;
  nc.display_name = s_or(d.display_name, d.class_type);
  nc.category = s_or(d.category);
  nc.description = s_or(d.description);
  nc.flags = d.flags;
  nc.execute = d.execute;
  nc.validate = d.validate;
  nc.fingerprint = d.fingerprint;
  nc.user_data = d.user_data;
  nc.origin = origin;
  for (uint32_t k = 0; k < d.validate_input_count; ++k) nc.validate_inputs.emplace_back(s_or(d.validate_inputs[k]));
  for (uint32_t k = 0; k < d.input_count; ++k) {
    const VkdInputDecl in = read_struct(d.inputs, k);
    if (!in.name || !in.type) return fail(origin + ": " + nc.class_type + " has an input without name or type");
    InputSpec s;
    s.name = in.name;
    s.type = in.type;
    s.category = in.category;
    s.flags = in.flags;
    s.int_default = in.int_default;
    s.int_min = in.int_min;
    s.int_max = in.int_max;
    s.int_step = in.int_step;
    s.float_default = in.float_default;
    s.float_min = in.float_min;
    s.float_max = in.float_max;
    s.float_step = in.float_step;
    s.float_round = in.float_round;
    s.string_default = s_or(in.string_default);
    for (uint32_t c = 0; c < in.combo_count; ++c) s.combo.emplace_back(s_or(in.combo[c]));
    s.combo_fn = in.combo_fn;
    s.combo_user_data = in.combo_user_data;
    s.tooltip = s_or(in.tooltip);
    if (has_field(in, &VkdInputDecl::extra_json) && in.extra_json && *in.extra_json) {
      try {
        JsonValue extra = parse_json("{" + std::string(in.extra_json) + "}");
        s.extra = extra.members();
      } catch (const std::exception& e) {
        return fail(origin + ": " + nc.class_type + "." + s.name + ": bad extra_json: " + e.what());
      }
    }
    nc.inputs.push_back(std::move(s));
  }
  for (uint32_t k = 0; k < d.output_count; ++k) {
    const VkdOutputDecl o = read_struct(d.outputs, k);
    OutputSpec s;
    s.type = s_or(o.type, "*");
    s.name = s_or(o.name, s.type.c_str());
    s.is_list = o.is_list != 0;
    s.tooltip = s_or(o.tooltip);
    nc.outputs.push_back(std::move(s));
  }
  auto [it, ok] = classes_.emplace(nc.class_type, std::move(nc));
  order_.push_back(&it->second);
  return true;
}

const NodeClass* NodeRegistry::find(std::string_view class_type) const {
  auto it = classes_.find(class_type);
  return it == classes_.end() ? nullptr : &it->second;
}

std::vector<std::string> NodeRegistry::combo_options(const InputSpec& in) const {
  if (!in.combo_fn) return in.combo;
  StringSinkVector sink;
  if (in.combo_fn(host_, in.combo_user_data, &sink.sink) != VKD_OK) return {};
  return std::move(sink.values);
}

JsonValue NodeRegistry::input_config(const InputSpec& in, bool for_object_info) const {
  JsonValue opts = JsonValue::object();
  bool is_float = in.type == "FLOAT";
  bool is_unsigned = in.is_unsigned();
  if (in.flags & VKD_INPUT_FLAG_DEFAULT) {
    if (is_float) opts.set("default", JsonValue::number(in.float_default));
    else if (in.type == "INT") opts.set("default", int_json(in.int_default, is_unsigned));
    else if (in.type == "BOOLEAN") opts.set("default", JsonValue::boolean(in.int_default != 0));
    else opts.set("default", JsonValue::string(in.string_default));
  }
  if (in.flags & VKD_INPUT_FLAG_MIN) opts.set("min", in.min_value());
  if (in.flags & VKD_INPUT_FLAG_MAX) opts.set("max", in.max_value());
  if (in.flags & VKD_INPUT_FLAG_STEP)
    opts.set("step", is_float ? JsonValue::number(in.float_step) : int_json(in.int_step, is_unsigned));
  if (in.flags & VKD_INPUT_FLAG_ROUND) opts.set("round", JsonValue::number(in.float_round));
  if (in.flags & VKD_INPUT_FLAG_FORCE_INPUT) opts.set("forceInput", JsonValue::boolean(true));
  if (in.flags & VKD_INPUT_FLAG_LAZY) opts.set("lazy", JsonValue::boolean(true));
  for (const auto& m : in.extra) opts.set(m.first, m.second);
  if (!in.tooltip.empty()) opts.set("tooltip", JsonValue::string(in.tooltip));
  JsonValue type;
  if (in.is_combo()) {
    JsonValue list = JsonValue::array();
    for (auto& o : combo_options(in)) list.push(JsonValue::string(o));
    type = std::move(list);
  } else {
    type = JsonValue::string(in.type);
  }
  JsonValue cfg = JsonValue::array();
  cfg.push(std::move(type));
  if (!for_object_info || opts.size() > 0) cfg.push(std::move(opts));
  return cfg;
}

JsonValue NodeRegistry::object_info(const NodeClass& nc) const {
  JsonValue input = JsonValue::object();
  JsonValue order = JsonValue::object();
  static const char* kCats[] = {"required", "optional", "hidden"};
  for (uint32_t cat = 0; cat < 3; ++cat) {
    JsonValue group = JsonValue::object();
    JsonValue names = JsonValue::array();
    for (const auto& in : nc.inputs) {
      if (in.category != cat) continue;
      group.set(in.name, cat == VKD_INPUT_HIDDEN ? JsonValue::string(in.type) : input_config(in, true));
      names.push(JsonValue::string(in.name));
    }
    if (cat == 0 || group.size() > 0) {
      input.set(kCats[cat], std::move(group));
      order.set(kCats[cat], std::move(names));
    }
  }
  JsonValue out = JsonValue::array(), is_list = JsonValue::array(), names = JsonValue::array(),
            tips = JsonValue::array();
  for (const auto& o : nc.outputs) {
    out.push(JsonValue::string(o.type));
    is_list.push(JsonValue::boolean(o.is_list));
    names.push(JsonValue::string(o.name));
    tips.push(o.tooltip.empty() ? JsonValue::null() : JsonValue::string(o.tooltip));
  }
  JsonValue info = JsonValue::object();
  info.set("input", std::move(input));
  info.set("input_order", std::move(order));
  info.set("output", std::move(out));
  info.set("output_is_list", std::move(is_list));
  info.set("output_name", std::move(names));
  info.set("name", JsonValue::string(nc.class_type));
  info.set("display_name", JsonValue::string(nc.display_name));
  info.set("description", JsonValue::string(nc.description));
  info.set("python_module", JsonValue::string("nodes"));
  info.set("category", JsonValue::string(nc.category));
  info.set("output_node", JsonValue::boolean(nc.output_node()));
  bool any_tip = false;
  for (const auto& o : nc.outputs) any_tip = any_tip || !o.tooltip.empty();
  if (any_tip) info.set("output_tooltips", std::move(tips));
  if (nc.flags & VKD_NODE_FLAG_DEPRECATED) info.set("deprecated", JsonValue::boolean(true));
  if (nc.flags & VKD_NODE_FLAG_EXPERIMENTAL) info.set("experimental", JsonValue::boolean(true));
  return info;
}

JsonValue NodeRegistry::object_info_all() const {
  JsonValue all = JsonValue::object();
  for (const NodeClass* nc : order_) all.set(nc->class_type, object_info(*nc));
  return all;
}

}  // namespace vkdream::graph
