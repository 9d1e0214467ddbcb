#include "server_context.h"

#include <filesystem>
#include <unistd.h>

namespace vkdream::server {

using graph::JsonValue;
namespace fs = std::filesystem;

namespace {

// WORKFLOW_DIR, else the shipped workflows/ next to the binary (installed or build tree) or in the source tree.
std::string workflow_dir(const ServerConfig& config) {
  if (!config.workflow_dir.empty()) return config.workflow_dir;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    for (fs::path p = fs::path(exe).parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      if (fs::is_directory(p / "share" / "vkdream" / "workflows")) return (p / "share" / "vkdream" / "workflows").string();
      if (fs::is_directory(p / "workflows" / "sd1.5")) return (p / "workflows").string();
    }
  }
#ifdef VKDREAM_SOURCE_DIR
  return std::string(VKDREAM_SOURCE_DIR) + "/workflows";
#else
  return "workflows";
#endif
}

// The combo options of one input of one node class, from /object_info.
std::vector<std::string> combo_options(Runtime& rt, const char* class_type, const char* input) {
  std::vector<std::string> out;
  JsonValue info = rt.object_info(class_type);
  const JsonValue* req = info.is_object() ? info.find("input") : nullptr;
  req = req ? req->find("required") : nullptr;
  const JsonValue* spec = req ? req->find(input) : nullptr;
  if (!spec || !spec->is_array() || spec->size() == 0) return out;
  const JsonValue& first = spec->items()[0];
  const JsonValue* options = &first;
  if (first.is_string() && first.as_string() == "COMBO" && spec->size() > 1) options = spec->items()[1].find("options");
  if (options && options->is_array())
    for (const auto& o : options->items())
      if (o.is_string()) out.push_back(o.as_string());
  return out;
}

}  // namespace

ServerContext::ServerContext(ServerConfig cfg, Runtime& rt)
    : config(std::move(cfg)),
      runtime(rt),
      history(config.history_max_items),
      egress(net::EgressPolicy::from_env()),
      webhooks({config.webhook_secret, config.webhook_retries, egress}, metrics),
      queue(rt, config.max_queue_depth) {
  workflows = workflows::load_workflow_dir(workflow_dir(config));
  dynamic_values.enum_values = [this](std::string_view source) -> std::vector<std::string> {
    std::string s(source);
    if (s == "checkpoints" || s == "loras" || s == "vae" || s == "embeddings") return runtime.host().list_files(s);
    if (s == "samplers") return combo_options(runtime, "KSampler", "sampler_name");
    if (s == "schedulers") return combo_options(runtime, "KSampler", "scheduler");
    return {};
  };
  dynamic_values.default_value = [this](std::string_view source) -> std::optional<JsonValue> {
    if (source == "checkpoint" || source == "checkpoints") {
      if (!warmup_checkpoint.empty()) return JsonValue::string(warmup_checkpoint);
      auto files = runtime.host().list_files("checkpoints");
      if (!files.empty()) return JsonValue::string(files.front());
    }
    return std::nullopt;
  };
  metrics.set_gauges([this] { return static_cast<double>(queue.depth()); },
                     [this] { return queue.busy() ? 1.0 : 0.0; }, [this] { return warm.load() ? 1.0 : 0.0; });
}

bool ServerContext::healthy() const {
  return warm.load() && queue.executor_alive() && queue.seconds_since_heartbeat() < config.stall_timeout_s;
}

}  // namespace vkdream::server
