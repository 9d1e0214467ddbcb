#include "graph/host.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace vkdream::graph {

namespace fs = std::filesystem;

struct HostCallbacks {
  static const void* get_service(const VkdHost* h, const char* name, uint32_t min_version) {
    Host* host = Host::from(h);
    return host && name ? host->service(name, min_version) : nullptr;
  }
  static void log(const VkdHost* h, int32_t level, const char* source, const char* message) {
    if (Host* host = Host::from(h)) host->log(level, source ? source : "plugin", message ? message : "");
  }
  static const char* directory(const VkdHost* h, const char* kind) {
    Host* host = Host::from(h);
    if (!host || !kind) return nullptr;
    std::string d = host->directory(kind);
    if (d.empty()) return nullptr;
    std::lock_guard<std::mutex> lock(host->mu_);
    auto& slot = host->dir_cstr_[kind];
    if (slot != d) slot = d;  // never reassigned while equal, so earlier pointers stay valid
    return slot.c_str();
  }
  static uint32_t list_files(const VkdHost* h, const char* kind, VkdStringSink* sink) {
    Host* host = Host::from(h);
    if (!host || !kind || !sink || !sink->add) return 0;
    auto files = host->list_files(kind);
    for (const auto& f : files) sink->add(sink, f.c_str());
    return static_cast<uint32_t>(files.size());
  }
};

Host::Host() {
  host_.struct_size = sizeof(VkdHost);
  host_.abi_major = VKD_ABI_MAJOR;
  host_.abi_minor = VKD_ABI_MINOR;
  host_.get_service = &HostCallbacks::get_service;
  host_.host_data = this;
  log_service_ = VkdLogService{sizeof(VkdLogService), 1, &HostCallbacks::log};
  paths_service_ = VkdPathsService{sizeof(VkdPathsService), 1, &HostCallbacks::directory, &HostCallbacks::list_files};
  add_service(VKD_SERVICE_LOG, 1, &log_service_);
  add_service(VKD_SERVICE_PATHS, 1, &paths_service_);
}

void Host::add_service(const std::string& name, uint32_t version, const void* table) {
  std::lock_guard<std::mutex> lock(mu_);
  services_[name] = Service{version, table};
}

const void* Host::service(const std::string& name, uint32_t min_version) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = services_.find(name);
  if (it == services_.end() || it->second.version < min_version) return nullptr;
  return it->second.table;
}

void Host::set_directory(const std::string& kind, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  dirs_[kind] = path;
}

std::string Host::directory(const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = dirs_.find(kind);
  if (it != dirs_.end()) return it->second;
  static const char* kModelKinds[] = {"checkpoints", "loras", "vae", "embeddings", "upscale_models", "controlnet"};
  auto m = dirs_.find("models");
  if (m != dirs_.end())
    for (const char* k : kModelKinds)
      if (kind == k) return (fs::path(m->second) / kind).string();
  return "";
}

std::vector<std::string> Host::list_files(const std::string& kind) const {
  std::vector<std::string> out;
  std::string dir = directory(kind);
  if (dir.empty()) return out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = it->path().lexically_relative(dir).generic_string();  // symlinks stay as named
    if (!rel.empty() && rel[0] != '.') out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Host::log(int level, const std::string& source, const std::string& message) const {
  if (log_) {
    log_(level, source, message);
    return;
  }
  static const char* kNames[] = {"debug", "info", "warning", "error"};
  if (level < VKD_LOG_INFO) return;
  std::fprintf(stderr, "[%s] %s: %s\n", kNames[std::clamp(level, 0, 3)], source.c_str(), message.c_str());
}

StringSinkVector::StringSinkVector() {
  sink.struct_size = sizeof(VkdStringSink);
  sink.data = this;
  sink.add = [](VkdStringSink* self, const char* s) {
    if (s) static_cast<StringSinkVector*>(self->data)->values.emplace_back(s);
  };
}

}  // namespace vkdream::graph
