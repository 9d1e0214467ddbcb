// Loads node plugins: shared libraries exporting vkdream_plugin_entry (include/vkdream/plugin.h).
// dlopen(RTLD_NOW | RTLD_LOCAL), never unloaded. A plugin whose ABI major differs or whose minor is newer than
// the host's is refused; a duplicate class_type is an error naming both files; a plugin that fails to load is
// skipped and reported while the others still load.
#pragma once

#include <string>
#include <vector>

#include "graph/host.h"
#include "graph/node_registry.h"

namespace vkdream::graph {

struct LoadedPlugin {
  std::string path;
  std::string name, version;
  uint32_t abi_major = 0, abi_minor = 0;
  std::vector<std::string> classes;  // the classes it registered
};

class PluginLoader {
 public:
  PluginLoader(NodeRegistry& registry, Host& host) : registry_(registry), host_(host) {}

  // Each entry is a directory (its *.so files, sorted by name, non-recursive) or a single file.
  void load_paths(const std::vector<std::string>& paths);
  // Loads one library; false (and an entry in errors()) when it was skipped.
  bool load_file(const std::string& path);

  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }
  // Everything that went wrong, one line each (also logged at error level).
  const std::vector<std::string>& errors() const { return errors_; }

  // Splits a PATH-style list ("a:b"); with env_name, reads that variable (VKDREAM_PLUGIN_PATH).
  static std::vector<std::string> split_path_list(const std::string& list);
  static std::vector<std::string> paths_from_env(const char* env_name = "VKDREAM_PLUGIN_PATH");

 private:
  void report(const std::string& message);
  NodeRegistry& registry_;
  Host& host_;
  std::vector<LoadedPlugin> plugins_;
  std::vector<std::string> errors_;
};

}  // namespace vkdream::graph
