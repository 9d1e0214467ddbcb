// Runs a validated prompt: only the ancestors of the requested output nodes, in ComfyUI's topological order
// (ExecutionList with its "UX friendly" pick), serving nodes whose input signature is cached, and reporting
// ComfyUI's progress events. The first failing node stops the prompt.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/host.h"
#include "graph/json_value.h"
#include "graph/node_registry.h"
#include "graph/output_cache.h"
#include "graph/prompt.h"

namespace vkdream::graph {

// type: "execution_start", "execution_cached", "executing", "progress", "executed", "execution_success",
// "execution_error", "execution_interrupted"; data: ComfyUI's message body (with prompt_id).
struct ExecEvent {
  std::string type;
  JsonValue data;
};
using EventFn = std::function<void(const ExecEvent&)>;

struct ExecResult {
  bool success = false;
  bool interrupted = false;
  JsonValue error;                      // the execution_error / execution_interrupted body
  std::vector<std::string> ran;         // nodes whose plugin function ran, in order
  std::vector<std::string> cached;      // as reported by execution_cached
  JsonValue ui_outputs = JsonValue::object();  // {node_id: ui} of every output node (history "outputs")
};

struct ExecutorOptions {
  uint64_t cache_budget_bytes = 8ull << 30;
  // Output nodes (SaveImage, ...) always run, even when their inputs are cached: a server that hands the
  // files to the client and removes them needs them written for every prompt. ComfyUI serves them from the cache.
  bool rerun_output_nodes = false;
};

class Executor {
 public:
  Executor(const NodeRegistry& registry, Host& host, ExecutorOptions options = {});

  // prompt: as returned by validate_prompt (literals coerced); outputs: its good_outputs. extra_data: the
  // request's extra_data object (ComfyUI's; its "extra_pnginfo" fills the hidden EXTRA_PNGINFO inputs).
  ExecResult execute(const Prompt& prompt, const std::vector<std::string>& outputs, const std::string& prompt_id,
                     const EventFn& on_event = {}, const JsonValue& extra_data = JsonValue::object());

  // Thread-safe: the running prompt stops before its next node (and nodes polling the host's interrupt
  // service stop inside). Cleared when the next prompt starts.
  void interrupt() { interrupted_.store(true); }
  bool interrupt_requested() const { return interrupted_.load(); }

  OutputCache& cache() { return cache_; }

  // The input signature of every node of the prompt (ComfyUI's CacheKeySetInputSignature, hashed).
  std::map<std::string, std::string> signatures(const Prompt& prompt);

 private:
  friend struct ExecutionServiceImpl;
  struct Run;
  bool run_node(Run& run, const std::string& node_id);

  const NodeRegistry& registry_;
  Host& host_;
  OutputCache cache_;
  bool rerun_output_nodes_ = false;
  std::atomic<bool> interrupted_{false};
};

}  // namespace vkdream::graph
