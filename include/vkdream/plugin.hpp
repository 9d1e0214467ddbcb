// Header-only C++ helpers over the C ABI in plugin.h: declare nodes in a few lines, read typed inputs, set
// outputs, and turn C++ exceptions into status codes (no exception ever crosses the ABI).
//
//   static void add(vkd::Context& c) { c.set_int(0, c.get_int("a") + c.get_int("b")); }
//   VKD_PLUGIN("math", "1.0", [](vkd::Plugin& p) {
//     p.node("AddInts").category("math").input_int("a", 0, -100, 100).input_int("b", 0, -100, 100)
//         .output("INT", "sum").execute(add);
//   })
#pragma once

#include <atomic>
#include <cstring>
#include <deque>
#include <functional>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vkdream/plugin.h"

namespace vkd {

// A failure with a ComfyUI exception type ("ValueError", "RuntimeError", ...) and a status code.
class Error : public std::runtime_error {
 public:
  Error(std::string message, std::string type = "RuntimeError", VkdStatus status = VKD_ERROR)
      : std::runtime_error(std::move(message)), type_(std::move(type)), status_(status) {}
  const std::string& type() const { return type_; }
  VkdStatus status() const { return status_; }

 private:
  std::string type_;
  VkdStatus status_;
};
struct Interrupted : Error {
  Interrupted() : Error("Processing interrupted", "InterruptProcessingException", VKD_ERROR_INTERRUPTED) {}
};

inline const VkdHost*& host_ref() {
  static const VkdHost* h = nullptr;
  return h;
}
inline const VkdHost* host() { return host_ref(); }

template <class T>
const T* service(const char* name, uint32_t min_version = 1) {
  const VkdHost* h = host();
  if (!h || !h->get_service) return nullptr;
  return static_cast<const T*>(h->get_service(h, name, min_version));
}

inline void log(int32_t level, const std::string& msg, const char* source = "plugin") {
  if (auto* s = service<VkdLogService>(VKD_SERVICE_LOG)) s->log(host(), level, source, msg.c_str());
}

// ---- objects -------------------------------------------------------------------------------------------
namespace detail {
template <class T>
struct ObjectBox {
  VkdObject obj;
  std::atomic<int64_t> refs{1};
  T value;
  template <class... A>
  explicit ObjectBox(A&&... a) : value(std::forward<A>(a)...) {}
  static void retain(VkdObject* o) { reinterpret_cast<ObjectBox*>(o)->refs.fetch_add(1); }
  static void release(VkdObject* o) {
    auto* b = reinterpret_cast<ObjectBox*>(o);
    if (b->refs.fetch_sub(1) == 1) delete b;
  }
};
}  // namespace detail

// A new object holding a T, with one reference owned by the caller.
template <class T, class... A>
VkdObject* make_object(const char* type_name, const char* payload_tag, uint64_t size_bytes, A&&... args) {
  auto* b = new detail::ObjectBox<T>(std::forward<A>(args)...);
  b->obj = VkdObject{sizeof(VkdObject), type_name, payload_tag, &b->value, size_bytes,
                     &detail::ObjectBox<T>::retain, &detail::ObjectBox<T>::release};
  return &b->obj;
}

// ---- execution context -----------------------------------------------------------------------------------
struct NodeImpl;

class Context {
 public:
  Context(VkdExecContext* c, const NodeImpl* impl) : c_(c), impl_(impl) {}
  VkdExecContext* raw() const { return c_; }
  const char* node_id() const { return c_->node_id; }

  inline int index(std::string_view name) const;
  const VkdValue& input(std::string_view name) const { return c_->inputs[index(name)]; }
  bool has(std::string_view name) const { return input(name).kind != VKD_VALUE_NONE; }
  int64_t get_int(std::string_view name) const { return expect(name, VKD_VALUE_INT).i; }
  uint64_t get_uint(std::string_view name) const { return static_cast<uint64_t>(expect(name, VKD_VALUE_INT).i); }
  double get_float(std::string_view name) const { return expect(name, VKD_VALUE_FLOAT).f; }
  bool get_bool(std::string_view name) const { return expect(name, VKD_VALUE_BOOLEAN).i != 0; }
  std::string get_string(std::string_view name) const {
    const VkdValue& v = expect(name, VKD_VALUE_STRING);
    return std::string(v.s, v.s_len);
  }
  VkdObject* get_object(std::string_view name) const { return expect(name, VKD_VALUE_OBJECT).obj; }
  template <class T>
  T& get(std::string_view name, const char* payload_tag) const {
    VkdObject* o = get_object(name);
    if (!o->payload_tag || std::strcmp(o->payload_tag, payload_tag) != 0)
      throw Error("input '" + std::string(name) + "' holds a " + (o->payload_tag ? o->payload_tag : "?") +
                      ", expected " + payload_tag,
                  "TypeError", VKD_ERROR_INVALID_ARGUMENT);
    return *static_cast<T*>(o->payload);
  }

  void set_int(uint32_t i, int64_t v) { out(i, VKD_VALUE_INT).i = v; }
  void set_float(uint32_t i, double v) { out(i, VKD_VALUE_FLOAT).f = v; }
  void set_bool(uint32_t i, bool v) { out(i, VKD_VALUE_BOOLEAN).i = v ? 1 : 0; }
  // Strings are copied into per-thread storage that lives until this thread's next node call (the host
  // copies outputs as soon as execute returns).
  void set_string(uint32_t i, std::string v) {
    auto& store = string_store();
    store.push_back(std::move(v));
    VkdValue& o = out(i, VKD_VALUE_STRING);
    o.s = store.back().c_str();
    o.s_len = store.back().size();
  }
  static std::deque<std::string>& string_store() {
    thread_local std::deque<std::string> store;
    return store;
  }
  // Hands over one reference of obj.
  void set_object(uint32_t i, VkdObject* obj) { out(i, VKD_VALUE_OBJECT).obj = obj; }
  void set_ui_json(const std::string& json) { c_->set_ui_json(c_, json.c_str()); }
  void set_fingerprint(const std::string& f) { c_->set_fingerprint(c_, f.c_str()); }

  void progress(uint64_t step, uint64_t total) const {
    if (auto* s = service<VkdExecutionService>(VKD_SERVICE_EXECUTION)) s->progress(c_, step, total);
  }
  bool interrupted() const {
    auto* s = service<VkdExecutionService>(VKD_SERVICE_EXECUTION);
    return s && s->interrupted(c_) != 0;
  }
  void throw_if_interrupted() const {
    if (interrupted()) throw Interrupted();
  }

 private:
  const VkdValue& expect(std::string_view name, VkdValueKind kind) const {
    const VkdValue& v = input(name);
    if (v.kind != kind)
      throw Error("input '" + std::string(name) + "' is missing or has the wrong kind", "ValueError",
                  VKD_ERROR_INVALID_ARGUMENT);
    return v;
  }
  VkdValue& out(uint32_t i, VkdValueKind kind) {
    if (i >= c_->output_count) throw Error("output index out of range", "IndexError");
    VkdValue& o = c_->outputs[i];
    o.kind = kind;
    return o;
  }
  VkdExecContext* c_;
  const NodeImpl* impl_;
};

using NodeFn = std::function<void(Context&)>;
// A validate function returns "" when valid, else the message (ComfyUI: VALIDATE_INPUTS returning a string).
using ValidateFn = std::function<std::string(Context&)>;

struct NodeImpl {
  NodeFn execute;
  ValidateFn validate;
  NodeFn fingerprint;
  std::unordered_map<std::string, int> index;
};

inline int Context::index(std::string_view name) const {
  auto it = impl_->index.find(std::string(name));
  if (it == impl_->index.end()) throw Error("node has no input '" + std::string(name) + "'", "KeyError");
  return it->second;
}

namespace detail {
inline const char* exception_type_of(const std::exception& e) {
  if (dynamic_cast<const std::invalid_argument*>(&e)) return "ValueError";
  if (dynamic_cast<const std::out_of_range*>(&e)) return "IndexError";
  if (dynamic_cast<const std::bad_alloc*>(&e)) return "MemoryError";
  return "RuntimeError";
}
template <class F>
VkdStatus guarded(VkdExecContext* c, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    c->set_error(c, e.type().c_str(), e.what());
    return e.status();
  } catch (const std::bad_alloc& e) {
    c->set_error(c, "MemoryError", "out of memory");
    return VKD_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    c->set_error(c, exception_type_of(e), e.what());
    return VKD_ERROR;
  } catch (...) {
    c->set_error(c, "RuntimeError", "unknown C++ exception");
    return VKD_ERROR;
  }
}
inline VkdStatus execute_trampoline(VkdExecContext* c) {
  return guarded(c, [&] {
    auto* impl = static_cast<NodeImpl*>(c->node_user_data);
    Context::string_store().clear();
    Context ctx(c, impl);
    impl->execute(ctx);
    return VkdStatus(VKD_OK);
  });
}
inline VkdStatus validate_trampoline(VkdExecContext* c) {
  return guarded(c, [&] {
    auto* impl = static_cast<NodeImpl*>(c->node_user_data);
    Context ctx(c, impl);
    std::string msg = impl->validate(ctx);
    if (msg.empty()) return VkdStatus(VKD_OK);
    c->set_error(c, "ValidationError", msg.c_str());
    return VkdStatus(VKD_ERROR_INVALID_ARGUMENT);
  });
}
inline VkdStatus fingerprint_trampoline(VkdExecContext* c) {
  return guarded(c, [&] {
    auto* impl = static_cast<NodeImpl*>(c->node_user_data);
    Context ctx(c, impl);
    impl->fingerprint(ctx);
    return VkdStatus(VKD_OK);
  });
}
}  // namespace detail

// ---- declarations ------------------------------------------------------------------------------------------
class Plugin;

// Builds one VkdNodeDecl; all strings and arrays live in the Plugin (static storage, never freed).
class NodeBuilder {
 public:
  NodeBuilder(Plugin* p, size_t index) : p_(p), index_(index) {}
  inline NodeBuilder& display_name(const std::string& s);
  inline NodeBuilder& category(const std::string& s);
  inline NodeBuilder& description(const std::string& s);
  inline NodeBuilder& output_node(bool on = true);
  inline NodeBuilder& always_changed(bool on = true);
  // Generic input: fill any field of d after the name/type/category.
  inline NodeBuilder& input(const std::string& name, const std::string& type,
                            VkdInputCategory cat = VKD_INPUT_REQUIRED,
                            const std::function<void(VkdInputDecl&)>& more = {});
  inline NodeBuilder& input_int(const std::string& name, int64_t def, int64_t min, int64_t max,
                                VkdInputCategory cat = VKD_INPUT_REQUIRED);
  inline NodeBuilder& input_float(const std::string& name, double def, double min, double max, double step,
                                  VkdInputCategory cat = VKD_INPUT_REQUIRED);
  inline NodeBuilder& input_string(const std::string& name, const std::string& def, bool multiline = false,
                                   VkdInputCategory cat = VKD_INPUT_REQUIRED);
  inline NodeBuilder& input_bool(const std::string& name, bool def, VkdInputCategory cat = VKD_INPUT_REQUIRED);
  inline NodeBuilder& input_combo(const std::string& name, const std::vector<std::string>& options,
                                  VkdInputCategory cat = VKD_INPUT_REQUIRED);
  inline NodeBuilder& input_combo_fn(const std::string& name, VkdComboFn fn, void* user = nullptr,
                                     VkdInputCategory cat = VKD_INPUT_REQUIRED);
  // Sets a field on the last declared input.
  inline NodeBuilder& tooltip(const std::string& s);
  inline NodeBuilder& extra_json(const std::string& s);
  inline NodeBuilder& output(const std::string& type, const std::string& name = "", bool is_list = false);
  inline NodeBuilder& execute(NodeFn fn);
  inline NodeBuilder& validate(std::vector<std::string> inputs, ValidateFn fn);
  inline NodeBuilder& fingerprint(NodeFn fn);

 private:
  Plugin* p_;
  size_t index_;
};

class Plugin {
 public:
  Plugin(std::string name, std::string version) : name_(std::move(name)), version_(std::move(version)) {}
  NodeBuilder node(const std::string& class_type) {
    nodes_.emplace_back();
    Node& n = nodes_.back();
    n.decl = VkdNodeDecl{};
    n.decl.struct_size = sizeof(VkdNodeDecl);
    n.decl.class_type = str(class_type);
    n.decl.display_name = n.decl.class_type;
    n.decl.category = str("");
    n.decl.description = str("");
    n.impl = new NodeImpl();  // lives as long as the process (plugins are never unloaded)
    n.decl.user_data = n.impl;
    return NodeBuilder(this, nodes_.size() - 1);
  }
  // Fills *out honouring out->struct_size; called by VKD_PLUGIN's entry point.
  VkdStatus describe(VkdPluginDesc* out) {
    decls_.clear();
    for (Node& n : nodes_) {
      n.decl.inputs = n.inputs.empty() ? nullptr : n.inputs.data();
      n.decl.input_count = static_cast<uint32_t>(n.inputs.size());
      n.decl.outputs = n.outputs.empty() ? nullptr : n.outputs.data();
      n.decl.output_count = static_cast<uint32_t>(n.outputs.size());
      n.decl.validate_inputs = n.validate_names.empty() ? nullptr : n.validate_names.data();
      n.decl.validate_input_count = static_cast<uint32_t>(n.validate_names.size());
      decls_.push_back(n.decl);
    }
    VkdPluginDesc d{};
    d.struct_size = sizeof(VkdPluginDesc);
    d.abi_major = VKD_ABI_MAJOR;
    d.abi_minor = VKD_ABI_MINOR;
    d.name = str(name_);
    d.version = str(version_);
    d.nodes = decls_.data();
    d.node_count = static_cast<uint32_t>(decls_.size());
    uint32_t n = out->struct_size < sizeof(d) ? out->struct_size : static_cast<uint32_t>(sizeof(d));
    uint32_t host_size = out->struct_size;
    std::memcpy(out, &d, n);
    out->struct_size = host_size;
    return VKD_OK;
  }
  const char* str(const std::string& s) {
    strings_.push_back(s);
    return strings_.back().c_str();
  }

 private:
  friend class NodeBuilder;
  struct Node {
    VkdNodeDecl decl;
    std::vector<VkdInputDecl> inputs;
    std::vector<VkdOutputDecl> outputs;
    std::vector<const char*> validate_names;
    std::deque<std::vector<const char*>> combos;
    NodeImpl* impl = nullptr;
  };
  std::string name_, version_;
  std::deque<Node> nodes_;
  std::deque<std::string> strings_;
  std::vector<VkdNodeDecl> decls_;
};

#define VKD_NB_NODE (p_->nodes_[index_])
inline NodeBuilder& NodeBuilder::display_name(const std::string& s) { VKD_NB_NODE.decl.display_name = p_->str(s); return *this; }
inline NodeBuilder& NodeBuilder::category(const std::string& s) { VKD_NB_NODE.decl.category = p_->str(s); return *this; }
inline NodeBuilder& NodeBuilder::description(const std::string& s) { VKD_NB_NODE.decl.description = p_->str(s); return *this; }
inline NodeBuilder& NodeBuilder::output_node(bool on) {
  if (on) VKD_NB_NODE.decl.flags |= VKD_NODE_FLAG_OUTPUT; else VKD_NB_NODE.decl.flags &= ~VKD_NODE_FLAG_OUTPUT;
  return *this;
}
inline NodeBuilder& NodeBuilder::always_changed(bool on) {
  if (on) VKD_NB_NODE.decl.flags |= VKD_NODE_FLAG_ALWAYS_CHANGED; else VKD_NB_NODE.decl.flags &= ~VKD_NODE_FLAG_ALWAYS_CHANGED;
  return *this;
}
inline NodeBuilder& NodeBuilder::input(const std::string& name, const std::string& type, VkdInputCategory cat,
                                       const std::function<void(VkdInputDecl&)>& more) {
  VkdInputDecl d{};
  d.struct_size = sizeof(VkdInputDecl);
  d.name = p_->str(name);
  d.type = p_->str(type);
  d.category = cat;
  if (more) more(d);
  VKD_NB_NODE.impl->index[name] = static_cast<int>(VKD_NB_NODE.inputs.size());
  VKD_NB_NODE.inputs.push_back(d);
  return *this;
}
inline NodeBuilder& NodeBuilder::input_int(const std::string& name, int64_t def, int64_t min, int64_t max,
                                           VkdInputCategory cat) {
  return input(name, "INT", cat, [&](VkdInputDecl& d) {
    d.flags = VKD_INPUT_FLAG_DEFAULT | VKD_INPUT_FLAG_MIN | VKD_INPUT_FLAG_MAX;
    d.int_default = def; d.int_min = min; d.int_max = max;
  });
}
inline NodeBuilder& NodeBuilder::input_float(const std::string& name, double def, double min, double max,
                                             double step, VkdInputCategory cat) {
  return input(name, "FLOAT", cat, [&](VkdInputDecl& d) {
    d.flags = VKD_INPUT_FLAG_DEFAULT | VKD_INPUT_FLAG_MIN | VKD_INPUT_FLAG_MAX | VKD_INPUT_FLAG_STEP;
    d.float_default = def; d.float_min = min; d.float_max = max; d.float_step = step;
  });
}
inline NodeBuilder& NodeBuilder::input_string(const std::string& name, const std::string& def, bool multiline,
                                              VkdInputCategory cat) {
  const char* s = p_->str(def);
  const char* extra = multiline ? p_->str("\"multiline\": true") : nullptr;
  return input(name, "STRING", cat, [&](VkdInputDecl& d) {
    d.flags = VKD_INPUT_FLAG_DEFAULT; d.string_default = s; d.extra_json = extra;
  });
}
inline NodeBuilder& NodeBuilder::input_bool(const std::string& name, bool def, VkdInputCategory cat) {
  return input(name, "BOOLEAN", cat, [&](VkdInputDecl& d) { d.flags = VKD_INPUT_FLAG_DEFAULT; d.int_default = def; });
}
inline NodeBuilder& NodeBuilder::input_combo(const std::string& name, const std::vector<std::string>& options,
                                             VkdInputCategory cat) {
  auto& node = VKD_NB_NODE;
  node.combos.emplace_back();
  for (const auto& o : options) node.combos.back().push_back(p_->str(o));
  const char* const* arr = node.combos.back().data();
  uint32_t n = static_cast<uint32_t>(options.size());
  return input(name, "COMBO", cat, [&](VkdInputDecl& d) { d.combo = arr; d.combo_count = n; });
}
inline NodeBuilder& NodeBuilder::input_combo_fn(const std::string& name, VkdComboFn fn, void* user,
                                                VkdInputCategory cat) {
  return input(name, "COMBO", cat, [&](VkdInputDecl& d) { d.combo_fn = fn; d.combo_user_data = user; });
}
inline NodeBuilder& NodeBuilder::tooltip(const std::string& s) {
  if (!VKD_NB_NODE.inputs.empty()) VKD_NB_NODE.inputs.back().tooltip = p_->str(s);
  return *this;
}
inline NodeBuilder& NodeBuilder::extra_json(const std::string& s) {
  if (!VKD_NB_NODE.inputs.empty()) VKD_NB_NODE.inputs.back().extra_json = p_->str(s);
  return *this;
}
inline NodeBuilder& NodeBuilder::output(const std::string& type, const std::string& name, bool is_list) {
  VkdOutputDecl o{};
  o.struct_size = sizeof(VkdOutputDecl);
  o.type = p_->str(type);
  o.name = p_->str(name.empty() ? type : name);
  o.is_list = is_list ? 1 : 0;
  VKD_NB_NODE.outputs.push_back(o);
  return *this;
}
inline NodeBuilder& NodeBuilder::execute(NodeFn fn) {
  VKD_NB_NODE.impl->execute = std::move(fn);
  VKD_NB_NODE.decl.execute = &detail::execute_trampoline;
  return *this;
}
inline NodeBuilder& NodeBuilder::validate(std::vector<std::string> inputs, ValidateFn fn) {
  for (const auto& s : inputs) VKD_NB_NODE.validate_names.push_back(p_->str(s));
  VKD_NB_NODE.impl->validate = std::move(fn);
  VKD_NB_NODE.decl.validate = &detail::validate_trampoline;
  return *this;
}
inline NodeBuilder& NodeBuilder::fingerprint(NodeFn fn) {
  VKD_NB_NODE.impl->fingerprint = std::move(fn);
  VKD_NB_NODE.decl.fingerprint = &detail::fingerprint_trampoline;
  return *this;
}
#undef VKD_NB_NODE

}  // namespace vkd

// Defines the plugin's entry point. `register_fn` is called once with a vkd::Plugin to declare nodes.
#define VKD_PLUGIN(pack_name, pack_version, register_fn)                                               \
  extern "C" VKD_PLUGIN_EXPORT VkdStatus vkdream_plugin_entry(const VkdHost* host, VkdPluginDesc* out) { \
    if (!out || out->struct_size < offsetof(VkdPluginDesc, abi_minor) + sizeof(uint32_t)) return VKD_ERROR_ABI; \
    try {                                                                                               \
      ::vkd::host_ref() = host;                                                                         \
      static ::vkd::Plugin* plugin = [] {                                                               \
        auto* p = new ::vkd::Plugin(pack_name, pack_version);                                           \
        (register_fn)(*p);                                                                              \
        return p;                                                                                       \
      }();                                                                                              \
      return plugin->describe(out);                                                                     \
    } catch (...) {                                                                                     \
      return VKD_ERROR;                                                                                 \
    }                                                                                                   \
  }
