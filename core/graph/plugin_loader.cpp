#include "graph/plugin_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace vkdream::graph {

namespace fs = std::filesystem;

namespace {
bool is_library(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".so" || ext == ".dylib" || ext == ".dll";
}
}  // namespace

void PluginLoader::report(const std::string& message) {
  errors_.push_back(message);
  host_.log(VKD_LOG_ERROR, "plugins", message);
}

std::vector<std::string> PluginLoader::split_path_list(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(':', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> PluginLoader::paths_from_env(const char* env_name) {
  const char* v = std::getenv(env_name);
  return v ? split_path_list(v) : std::vector<std::string>{};
}

void PluginLoader::load_paths(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> files;
      for (const auto& e : fs::directory_iterator(p, ec))
        if (e.is_regular_file(ec) && is_library(e.path())) files.push_back(e.path().string());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) load_file(f);
    } else if (fs::exists(p, ec)) {
      load_file(p);
    } else {
      report("plugin path " + p + " does not exist");
    }
  }
}

bool PluginLoader::load_file(const std::string& path) {
  // Never dlclose'd: node tables, strings and objects' function pointers must stay valid for the process.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = dlerror();
    report("plugin " + path + " failed to load: " + (err ? err : "unknown dlopen error") + " (skipped)");
    return false;
  }
  dlerror();
  void* sym = dlsym(handle, VKD_PLUGIN_ENTRY_SYMBOL);
  if (!sym) {
    report("plugin " + path + " has no " VKD_PLUGIN_ENTRY_SYMBOL " symbol (skipped)");
    return false;
  }
  auto entry = reinterpret_cast<VkdPluginEntryFn>(sym);
  VkdPluginDesc desc{};
  desc.struct_size = sizeof(VkdPluginDesc);
  VkdStatus st = entry(host_.c_host(), &desc);
  // The version fields come first and never move: check them before reading anything else.
  std::string versions = "plugin ABI " + std::to_string(desc.abi_major) + "." + std::to_string(desc.abi_minor) +
                         ", host ABI " + std::to_string(VKD_ABI_MAJOR) + "." + std::to_string(VKD_ABI_MINOR);
  if (desc.abi_major != VKD_ABI_MAJOR || desc.abi_minor > VKD_ABI_MINOR) {
    report("plugin " + path + " refused: " + versions +
           (desc.abi_major != VKD_ABI_MAJOR ? " (major differs)" : " (minor is newer than the host's)"));
    return false;
  }
  if (st != VKD_OK) {
    report("plugin " + path + " entry point failed with status " + std::to_string(st) + " (skipped)");
    return false;
  }
  if (desc.node_count > 0 && !desc.nodes) {
    report("plugin " + path + " declares nodes but gives no table (skipped)");
    return false;
  }
  LoadedPlugin lp;
  lp.path = path;
  lp.name = desc.name ? desc.name : fs::path(path).stem().string();
  lp.version = desc.version ? desc.version : "";
  lp.abi_major = desc.abi_major;
  lp.abi_minor = desc.abi_minor;
  uint32_t stride = desc.node_count ? desc.nodes[0].struct_size : 0;
  for (uint32_t k = 0; k < desc.node_count; ++k) {
    VkdNodeDecl d{};
    const char* p = reinterpret_cast<const char*>(desc.nodes) + static_cast<size_t>(k) * stride;
    size_t n = std::min<size_t>(stride, sizeof(VkdNodeDecl));
    std::memcpy(static_cast<void*>(&d), p, n);
    d.struct_size = static_cast<uint32_t>(n);
    std::string error;
    if (!registry_.add(d, path, &error)) {
      report(error);
      continue;
    }
    lp.classes.emplace_back(d.class_type);
  }
  host_.log(VKD_LOG_INFO, "plugins",
            "loaded " + path + " (" + lp.name + " " + lp.version + ", " + std::to_string(lp.classes.size()) +
                " nodes, " + versions + ")");
  plugins_.push_back(std::move(lp));
  return true;
}

}  // namespace vkdream::graph
