// The graph runtime as one object, for the `vkdream` commands and the server: loads the node plugins, owns
// the host (folders, log, services), the node registry and the executor, validates prompts and runs them one
// at a time. The GPU is opened on first use (a plugin asking for the "vkdream.core" service), so validating,
// /object_info and `vkdream nodes` never touch the device.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "graph/executor.h"
#include "graph/host.h"
#include "graph/json_value.h"
#include "graph/node_registry.h"
#include "graph/plugin_loader.h"
#include "graph/prompt.h"
#include "graph/validate.h"

namespace vkdream::graph {

class CoreServices;  // graph/core_services.h: the C++ service the in-tree node packs use (GPU, models)
struct VkdCoreService;
class GpuService;

struct EngineOptions {
  // Directories (every *.so in them) or single plugin files, loaded in order. Empty: default_plugin_paths().
  std::vector<std::string> plugin_paths;
  // Folder kinds for the host ("models", "checkpoints", "loras", "vae", "embeddings", "input", "output",
  // "temp"); a model kind defaults to <models>/<kind>.
  std::map<std::string, std::string> directories;
  uint64_t cache_budget_bytes = 8ull << 30;  // cached node outputs (models first), LRU beyond it
  bool rerun_output_nodes = false;           // see ExecutorOptions (the server sets it)
  LogFn log;                                 // default: one line per message on stderr
};

class Engine {
 public:
  explicit Engine(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The plugin folder of this build/installation (next to the binary: ../lib/vkdream/plugins, or the build
  // tree's plugins/ folder) followed by VKDREAM_PLUGIN_PATH's entries.
  static std::vector<std::string> default_plugin_paths();

  Host& host() { return host_; }
  const NodeRegistry& registry() const { return registry_; }
  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }
  const std::vector<std::string>& plugin_errors() const { return plugin_errors_; }

  // ComfyUI's /object_info (every class) and /object_info/<class> (null when unknown).
  JsonValue object_info() const { return registry_.object_info_all(); }

  // Parses and validates a graph (the value of the request's "prompt" field). Throws PromptError when the text
  // is not a prompt at all. Safe to call while another thread executes.
  ValidationResult validate(std::string_view graph_json, const std::vector<std::string>* partial_targets = nullptr) const;
  ValidationResult validate(const JsonValue& graph, const std::vector<std::string>* partial_targets = nullptr) const;

  // Runs a validated prompt on the calling thread; concurrent calls are serialised (one prompt at a time per
  // device). Never throws for a node failure: the result carries ComfyUI's execution_error. extra_data: the
  // request's extra_data (its "extra_pnginfo" goes into SaveImage's PNG text chunks).
  ExecResult execute(const ValidationResult& validated, const std::string& prompt_id, const EventFn& on_event = {},
                     const JsonValue& extra_data = JsonValue::object());

  // Thread-safe: stops the running prompt (if any) at its next node or sampler step.
  void interrupt() { executor_->interrupt(); }

  // Drops every cached node output (models included).
  void clear_cache();

  // {"name", "type", "vram_total", "vram_free", ...} of the device, opening it if needed; null without one.
  JsonValue device_info();

 private:
  EngineOptions options_;
  Host host_;
  NodeRegistry registry_;
  std::vector<LoadedPlugin> plugins_;
  std::vector<std::string> plugin_errors_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<CoreServices> core_;
  std::unique_ptr<VkdCoreService> core_table_;
  std::unique_ptr<GpuService> gpu_;
  std::mutex run_mu_;
};

}  // namespace vkdream::graph
