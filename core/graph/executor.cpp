#include "graph/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "graph/node_call.h"

namespace vkdream::graph {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// 128-bit FNV-1a-style hash (two lanes with different offsets, finalized with a mixer); plenty against
// accidental collisions of cache keys, not meant to resist an adversary.
std::string hash128(const std::string& s) {
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  for (unsigned char c : s) {
    a = (a ^ c) * 0x100000001b3ull;
    b = (b ^ (c + 0x9e)) * 0x100000001b3ull;
    b ^= b >> 29;
  }
  auto mix = [](uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
  };
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(mix(a ^ s.size())),
                static_cast<unsigned long long>(mix(b + s.size())));
  return buf;
}

std::string nonce() {
  static std::atomic<uint64_t> counter{0};
  std::string s(1, '!');
  s += std::to_string(now_ms());
  s += '.';
  s += std::to_string(counter.fetch_add(1));
  return s;
}

JsonValue format_value(const VkdValue& v) {
  switch (v.kind) {
    case VKD_VALUE_INT: return JsonValue::integer(v.i);
    case VKD_VALUE_FLOAT: return JsonValue::number(v.f);
    case VKD_VALUE_BOOLEAN: return JsonValue::boolean(v.i != 0);
    case VKD_VALUE_STRING: return JsonValue::string(std::string(v.s ? v.s : "", v.s ? v.s_len : 0));
    case VKD_VALUE_OBJECT:
      return JsonValue::string(std::string("<") + (v.obj && v.obj->type_name ? v.obj->type_name : "object") +
                               " object>");
    default: return JsonValue::null();
  }
}

}  // namespace

struct Executor::Run {
  Executor* self;
  const Prompt* prompt;
  const JsonValue* extra_data;  // the request's extra_data (hidden EXTRA_PNGINFO comes from it)
  std::string prompt_id;
  const EventFn* on_event;
  std::map<std::string, std::string> sigs;
  std::map<std::string, std::shared_ptr<const CachedOutputs>> outputs;  // available this prompt
  std::vector<std::string> executed;                                    // run or served, in order
  ExecResult result;
  std::string current_node;

  void emit(const std::string& type, JsonValue data) {
    if (on_event && *on_event) (*on_event)(ExecEvent{type, std::move(data)});
  }
  JsonValue base() const {
    JsonValue d = JsonValue::object();
    d.set("prompt_id", JsonValue::string(prompt_id));
    return d;
  }
};

struct ExecutionServiceImpl {
  static Executor::Run* run_of(const VkdExecContext* ctx) {
    NodeCall* call = ctx ? NodeCall::from(ctx) : nullptr;
    return call ? static_cast<Executor::Run*>(call->executor_state()) : nullptr;
  }
  static void progress(const VkdExecContext* ctx, uint64_t step, uint64_t total) {
    Executor::Run* run = run_of(ctx);
    if (!run) return;
    JsonValue d = JsonValue::object();
    d.set("value", JsonValue::integer(static_cast<Int128>(step)));
    d.set("max", JsonValue::integer(static_cast<Int128>(total)));
    d.set("prompt_id", JsonValue::string(run->prompt_id));
    d.set("node", JsonValue::string(ctx->node_id ? ctx->node_id : ""));
    run->emit("progress", std::move(d));
  }
  static int32_t interrupted(const VkdExecContext* ctx) {
    Executor::Run* run = run_of(ctx);
    return run && run->self->interrupted_.load() ? 1 : 0;
  }
  static const VkdExecutionService* table() {
    static const VkdExecutionService t{sizeof(VkdExecutionService), 1, &progress, &interrupted};
    return &t;
  }
};

Executor::Executor(const NodeRegistry& registry, Host& host, ExecutorOptions options)
    : registry_(registry), host_(host), cache_(options.cache_budget_bytes),
      rerun_output_nodes_(options.rerun_output_nodes) {
  host_.add_service(VKD_SERVICE_EXECUTION, 1, ExecutionServiceImpl::table());
}

std::map<std::string, std::string> Executor::signatures(const Prompt& prompt) {
  std::map<std::string, std::string> memo;
  std::set<std::string> active;
  std::function<std::string(const std::string&)> sig = [&](const std::string& id) -> std::string {
    if (auto it = memo.find(id); it != memo.end()) return it->second;
    const PromptNode* n = prompt.find(id);
    const NodeClass* nc = n ? registry_.find(n->class_type) : nullptr;
    if (!n || !nc || !n->inputs.is_object() || active.count(id)) return "";
    active.insert(id);
    std::string fp;
    if ((nc->flags & VKD_NODE_FLAG_ALWAYS_CHANGED) || (rerun_output_nodes_ && nc->output_node())) {
      fp = nonce();
    } else if (nc->fingerprint) {
      NodeCall call(*nc, id, host_.c_host());
      for (size_t k = 0; k < nc->inputs.size(); ++k)
        if (const JsonValue* v = n->inputs.find(nc->inputs[k].name); v && !is_link(*v)) call.set_literal(k, *v);
      fp = call.call(nc->fingerprint) == VKD_OK ? call.fingerprint() : nonce();
    }
    std::string canon = "class=" + n->class_type + "\nfp=" + fp;
    std::vector<const JsonValue::Member*> inputs;
    for (const auto& m : n->inputs.members()) inputs.push_back(&m);
    std::sort(inputs.begin(), inputs.end(), [](auto* a, auto* b) { return a->first < b->first; });
    bool ok = true;
    for (const auto* m : inputs) {
      canon += "\n" + m->first + "=";
      if (is_link(m->second)) {
        const auto& items = m->second.items();
        std::string up = items.size() == 2 && items[0].is_string() ? sig(items[0].as_string()) : "";
        if (up.empty()) ok = false;
        canon += "@" + up + "#" + (items.size() == 2 ? items[1].dump() : "?");
      } else {
        canon += m->second.dump();
      }
    }
    active.erase(id);
    std::string h = ok ? hash128(canon) : "";
    memo[id] = h;
    return h;
  };
  for (const auto& n : prompt.nodes) sig(n.id);
  return memo;
}

bool Executor::run_node(Run& run, const std::string& node_id) {
  const PromptNode* n = run.prompt->find(node_id);
  const NodeClass* nc = registry_.find(n->class_type);
  const std::string& sig = run.sigs[node_id];
  auto executing = run.base();
  executing.set("node", JsonValue::string(node_id));
  executing.set("display_node", JsonValue::string(node_id));

  auto fail = [&](bool interrupted, const std::string& type, const std::string& message, const JsonValue& inputs) {
    JsonValue d = run.base();
    d.set("node_id", JsonValue::string(node_id));
    d.set("node_type", JsonValue::string(n->class_type));
    JsonValue executed = JsonValue::array();
    for (const auto& e : run.executed) executed.push(JsonValue::string(e));
    d.set("executed", std::move(executed));
    if (!interrupted) {
      d.set("exception_message", JsonValue::string(message));
      d.set("exception_type", JsonValue::string(type));
      JsonValue tb = JsonValue::array();
      tb.push(JsonValue::string("  File \"" + nc->origin + "\", in " + n->class_type + ".execute\n"));
      d.set("traceback", std::move(tb));
      d.set("current_inputs", inputs);
      JsonValue outs = JsonValue::array();
      for (const auto& [id, _] : run.outputs) outs.push(JsonValue::string(id));
      d.set("current_outputs", std::move(outs));
    }
    d.set("timestamp", JsonValue::integer(now_ms()));
    run.result.interrupted = interrupted;
    run.result.error = d;
    run.emit(interrupted ? "execution_interrupted" : "execution_error", d);
    return false;
  };

  if (interrupted_.load()) return fail(true, "", "", JsonValue::object());

  // An output node whose signature is cached is served from the cache (ComfyUI re-sends its ui output).
  if (!sig.empty()) {
    if (auto hit = cache_.get(sig)) {
      cache_.pin(sig);
      run.outputs[node_id] = hit;
      run.executed.push_back(node_id);
      if (!hit->ui_json.empty()) {
        JsonValue d = run.base();
        d.set("node", JsonValue::string(node_id));
        d.set("display_node", JsonValue::string(node_id));
        d.set("output", parse_json(hit->ui_json));
        run.result.ui_outputs.set(node_id, d.find("output") ? *d.find("output") : JsonValue::null());
        run.emit("executed", std::move(d));
      }
      return true;
    }
  }

  run.emit("executing", std::move(executing));
  run.current_node = node_id;
  NodeCall call(*nc, node_id, host_.c_host(), &run);
  JsonValue current_inputs = JsonValue::object();
  std::string prompt_json;
  for (size_t k = 0; k < nc->inputs.size(); ++k) {
    const InputSpec& spec = nc->inputs[k];
    if (spec.category == VKD_INPUT_HIDDEN) {
      if (spec.type == "UNIQUE_ID") call.set_literal(k, JsonValue::string(node_id));
      if (spec.type == "PROMPT") call.set_literal(k, JsonValue::string(run.prompt->to_json().dump()));
      // ComfyUI: extra_data.get("extra_pnginfo"), None (input left unset) when absent or null.
      if (spec.type == "EXTRA_PNGINFO")
        if (const JsonValue* e = run.extra_data->is_object() ? run.extra_data->find("extra_pnginfo") : nullptr;
            e && !e->is_null())
          call.set_literal(k, JsonValue::string(e->dump()));
      continue;
    }
    const JsonValue* v = n->inputs.find(spec.name);
    if (!v) continue;
    if (is_link(*v)) {
      const std::string& up = v->items()[0].as_string();
      auto it = run.outputs.find(up);
      if (it == run.outputs.end()) {
        auto hit = run.sigs[up].empty() ? nullptr : cache_.get(run.sigs[up]);
        if (!hit) return fail(false, "RuntimeError", "input '" + spec.name + "' of node " + node_id +
                                                         " has no value (node " + up + " produced none)",
                              current_inputs);
        cache_.pin(run.sigs[up]);
        it = run.outputs.emplace(up, hit).first;
      }
      const JsonValue& slot_v = v->items()[1];
      int64_t slot = slot_v.is_bool() ? (slot_v.as_bool() ? 1 : 0) : static_cast<int64_t>(slot_v.as_int());
      int64_t count = static_cast<int64_t>(it->second->outputs.size());
      if (slot < 0) slot += count;
      if (slot >= 0 && slot < count) call.set_value(k, it->second->outputs[static_cast<size_t>(slot)].view());
    } else {
      call.set_literal(k, *v);
    }
    JsonValue list = JsonValue::array();
    list.push(format_value(call.inputs()[k]));
    current_inputs.set(spec.name, std::move(list));
  }

  VkdStatus st = nc->execute ? call.call(nc->execute) : VKD_ERROR;
  if (!nc->execute) return fail(false, "RuntimeError", n->class_type + " has no execute function", current_inputs);
  if (st != VKD_OK) {
    for (auto& o : call.outputs()) Value drop(o, true);  // release whatever a failing node handed out
    bool interrupted = st == VKD_ERROR_INTERRUPTED || call.error_type() == "InterruptProcessingException";
    std::string msg = call.error_message().empty() ? "node failed with status " + std::to_string(st)
                                                   : call.error_message();
    return fail(interrupted, call.error_type().empty() ? "RuntimeError" : call.error_type(), msg, current_inputs);
  }
  auto entry = std::make_shared<CachedOutputs>();
  for (const auto& o : call.outputs()) {
    entry->outputs.emplace_back(o, true);
    entry->size_bytes += entry->outputs.back().size_bytes();
  }
  entry->ui_json = call.ui_json();
  run.outputs[node_id] = entry;
  run.result.ran.push_back(node_id);
  run.executed.push_back(node_id);
  if (!sig.empty()) {
    cache_.pin(sig);
    cache_.put(sig, entry);
  }
  if (!entry->ui_json.empty()) {
    JsonValue d = run.base();
    d.set("node", JsonValue::string(node_id));
    d.set("display_node", JsonValue::string(node_id));
    JsonValue ui;
    try {
      ui = parse_json(entry->ui_json);
    } catch (const std::exception&) {
      ui = JsonValue::string(entry->ui_json);
    }
    d.set("output", ui);
    run.result.ui_outputs.set(node_id, ui);
    run.emit("executed", std::move(d));
  }
  return true;
}

ExecResult Executor::execute(const Prompt& prompt, const std::vector<std::string>& outputs,
                             const std::string& prompt_id, const EventFn& on_event, const JsonValue& extra_data) {
  interrupted_.store(false);
  Run run;
  run.self = this;
  run.prompt = &prompt;
  run.extra_data = &extra_data;
  run.prompt_id = prompt_id;
  run.on_event = &on_event;
  {
    JsonValue d = run.base();
    d.set("timestamp", JsonValue::integer(now_ms()));
    run.emit("execution_start", std::move(d));
  }
  run.sigs = signatures(prompt);
  auto is_cached = [&](const std::string& id) {
    auto it = run.sigs.find(id);
    return it != run.sigs.end() && !it->second.empty() && cache_.contains(it->second);
  };
  JsonValue cached = JsonValue::array();
  for (const auto& n : prompt.nodes)
    if (is_cached(n.id)) {
      cached.push(JsonValue::string(n.id));
      run.result.cached.push_back(n.id);
    }
  {
    JsonValue d = JsonValue::object();
    d.set("nodes", std::move(cached));
    d.set("prompt_id", JsonValue::string(prompt_id));
    d.set("timestamp", JsonValue::integer(now_ms()));
    run.emit("execution_cached", std::move(d));
  }

  // ComfyUI's ExecutionList: pending nodes in insertion order, block counts from strong links.
  std::vector<std::string> pending;
  std::set<std::string> pending_set;
  std::map<std::string, int> block_count;
  std::map<std::string, std::vector<std::string>> blocking;  // from -> nodes it blocks (unique)
  auto add_node = [&](const std::string& start) {
    std::vector<std::string> stack{start};
    std::vector<std::pair<std::string, std::string>> links;
    while (!stack.empty()) {
      std::string id = stack.back();
      stack.pop_back();
      if (pending_set.count(id)) continue;
      pending.push_back(id);
      pending_set.insert(id);
      block_count[id] = 0;
      blocking[id];
      const PromptNode* n = prompt.find(id);
      for (const auto& [name, v] : n->inputs.members()) {
        if (!is_link(v) || v.size() != 2 || !v.items()[0].is_string()) continue;
        const std::string& from = v.items()[0].as_string();
        if (is_cached(from)) continue;
        stack.push_back(from);
        links.emplace_back(from, id);
      }
    }
    for (const auto& [from, to] : links) {
      auto& b = blocking[from];
      if (std::find(b.begin(), b.end(), to) == b.end()) {
        b.push_back(to);
        block_count[to]++;
      }
    }
  };
  for (const auto& o : outputs) add_node(o);

  auto is_output = [&](const std::string& id) {
    const NodeClass* nc = registry_.find(prompt.find(id)->class_type);
    return nc && nc->output_node();
  };
  auto pick = [&](const std::vector<std::string>& ready) {
    for (const auto& id : ready)
      if (is_output(id)) return id;
    for (const auto& id : ready)
      for (const auto& b : blocking[id])
        if (is_output(b)) return id;
    for (const auto& id : ready)
      for (const auto& b : blocking[id])
        for (const auto& b1 : blocking[b])
          if (is_output(b1)) return id;
    return ready.front();
  };

  bool ok = true;
  while (!pending.empty()) {
    std::vector<std::string> ready;
    for (const auto& id : pending)
      if (block_count[id] == 0) ready.push_back(id);
    if (ready.empty()) {
      JsonValue d = run.base();
      d.set("node_id", JsonValue::string(pending.front()));
      d.set("node_type", JsonValue::string(prompt.find(pending.front())->class_type));
      d.set("exception_message", JsonValue::string("Dependency cycle detected"));
      d.set("exception_type", JsonValue::string("graph.DependencyCycleError"));
      d.set("traceback", JsonValue::array());
      d.set("current_inputs", JsonValue::array());
      run.result.error = d;
      run.emit("execution_error", d);
      ok = false;
      break;
    }
    std::string id = pick(ready);
    if (!run_node(run, id)) {
      ok = false;
      break;
    }
    pending.erase(std::find(pending.begin(), pending.end(), id));
    pending_set.erase(id);
    for (const auto& b : blocking[id]) block_count[b]--;
    blocking.erase(id);
  }
  cache_.unpin_all();
  cache_.trim();
  if (ok) {
    JsonValue d = run.base();
    d.set("timestamp", JsonValue::integer(now_ms()));
    run.emit("execution_success", std::move(d));
    run.result.success = true;
  }
  JsonValue done = JsonValue::object();
  done.set("node", JsonValue::null());
  done.set("prompt_id", JsonValue::string(prompt_id));
  run.emit("executing", std::move(done));
  return std::move(run.result);
}

}  // namespace vkdream::graph
