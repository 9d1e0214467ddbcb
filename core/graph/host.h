// The host side of the plugin ABI: the VkdHost handed to plugins and its service tables, fetched by name and
// version ("vkd.log", "vkd.execution", "vkd.paths"; the GPU side adds "vkd.device", "vkd.tensor", ... later
// through add_service without touching the ABI structs).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "graph/plugin_abi.h"

namespace vkdream::graph {

using LogFn = std::function<void(int level, const std::string& source, const std::string& message)>;

class Host {
 public:
  Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  const VkdHost* c_host() const { return &host_; }
  static Host* from(const VkdHost* h) { return h ? static_cast<Host*>(h->host_data) : nullptr; }

  // Registers (or replaces) a service table; it must start with {struct_size, version} and outlive the host.
  void add_service(const std::string& name, uint32_t version, const void* table);
  const void* service(const std::string& name, uint32_t min_version) const;

  // Folders: "models", "checkpoints", "loras", "vae", "embeddings", "input", "output", "temp". A model folder
  // kind defaults to <models>/<kind> when only "models" is set.
  void set_directory(const std::string& kind, const std::string& path);
  std::string directory(const std::string& kind) const;
  std::vector<std::string> list_files(const std::string& kind) const;  // sorted, recursive, relative paths

  void set_log(LogFn fn) { log_ = std::move(fn); }
  void log(int level, const std::string& source, const std::string& message) const;

 private:
  struct Service {
    uint32_t version;
    const void* table;
  };
  VkdHost host_{};
  std::map<std::string, Service> services_;
  std::map<std::string, std::string> dirs_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::string> dir_cstr_;  // stable storage for directory()'s C strings
  LogFn log_;
  VkdLogService log_service_{};
  VkdPathsService paths_service_{};
  friend struct HostCallbacks;
};

// Collects strings from a VkdStringSink.
struct StringSinkVector {
  VkdStringSink sink{};
  std::vector<std::string> values;
  StringSinkVector();
};

}  // namespace vkdream::graph
