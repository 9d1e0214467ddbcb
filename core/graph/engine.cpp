#include "graph/engine.h"

#include <filesystem>

#include "graph/core_services.h"
#include "graph/gpu_service.h"
#include "vulkan/memory.h"

namespace vkdream::graph {

namespace fs = std::filesystem;

std::vector<std::string> Engine::default_plugin_paths() {
  std::vector<std::string> paths;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // Installed: <prefix>/bin/vkdream -> <prefix>/lib/vkdream/plugins. Build tree: <build>/<dir>/exe ->
    // <build>/plugins (tests live one or two levels down).
    const fs::path candidates[] = {exe.parent_path().parent_path() / "lib" / "vkdream" / "plugins",
                                   exe.parent_path() / "plugins", exe.parent_path().parent_path() / "plugins",
                                   exe.parent_path().parent_path().parent_path() / "plugins"};
    for (const auto& c : candidates)
      if (fs::is_directory(c, ec)) {
        paths.push_back(c.lexically_normal().string());
        break;
      }
  }
  for (auto& p : PluginLoader::paths_from_env()) paths.push_back(p);
  return paths;
}

Engine::Engine(EngineOptions options) : options_(std::move(options)), registry_(host_.c_host()) {
  if (options_.log) host_.set_log(options_.log);
  for (const auto& [kind, path] : options_.directories) host_.set_directory(kind, path);

  core_ = std::make_unique<CoreServices>(host_);
  core_table_ = std::make_unique<VkdCoreService>(
      VkdCoreService{sizeof(VkdCoreService), 1, CoreServices::build_id(), core_.get()});
  host_.add_service(VKDREAM_CORE_SERVICE, 1, core_table_.get());
  gpu_ = std::make_unique<GpuService>(*core_);
  host_.add_service(VKD_SERVICE_GPU, 1, gpu_->table());

  PluginLoader loader(registry_, host_);
  loader.load_paths(options_.plugin_paths.empty() ? default_plugin_paths() : options_.plugin_paths);
  plugins_ = loader.plugins();
  plugin_errors_ = loader.errors();

  ExecutorOptions eo;
  eo.cache_budget_bytes = options_.cache_budget_bytes;
  eo.rerun_output_nodes = options_.rerun_output_nodes;
  executor_ = std::make_unique<Executor>(registry_, host_, eo);
}

Engine::~Engine() {
  // Cached outputs hold device tensors: drop them before the device goes.
  executor_.reset();
}

ValidationResult Engine::validate(std::string_view graph_json, const std::vector<std::string>* partial) const {
  return validate_prompt(parse_prompt(graph_json), registry_, partial);
}

ValidationResult Engine::validate(const JsonValue& graph, const std::vector<std::string>* partial) const {
  return validate_prompt(prompt_from_json(graph), registry_, partial);
}

ExecResult Engine::execute(const ValidationResult& validated, const std::string& prompt_id, const EventFn& on_event,
                           const JsonValue& extra_data) {
  std::lock_guard<std::mutex> lock(run_mu_);
  return executor_->execute(validated.prompt, validated.good_outputs, prompt_id, on_event, extra_data);
}

void Engine::clear_cache() {
  std::lock_guard<std::mutex> lock(run_mu_);
  executor_->cache().clear();
}

JsonValue Engine::device_info() {
  vk::Context* ctx = nullptr;
  try {
    ctx = &core_->context();
  } catch (const std::exception& e) {
    host_.log(VKD_LOG_ERROR, "core", std::string("no compute device: ") + e.what());
    return JsonValue();
  }
  const auto& c = ctx->caps();
  JsonValue d = JsonValue::object();
  d.set("name", JsonValue::string(c.name));
  const char* type = "other";
  switch (c.type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: type = "discrete_gpu"; break;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: type = "integrated_gpu"; break;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: type = "virtual_gpu"; break;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: type = "cpu"; break;
    default: break;
  }
  d.set("type", JsonValue::string("vulkan"));
  d.set("device_type", JsonValue::string(type));
  d.set("index", JsonValue::integer(0));
  d.set("vram_total", JsonValue::integer(int64_t(c.device_local_bytes)));
  d.set("fp16", JsonValue::boolean(c.fp16_storage));
  return d;
}

}  // namespace vkdream::graph
