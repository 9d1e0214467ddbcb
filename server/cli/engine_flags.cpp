#include "cli/engine_flags.h"

#include <cstdlib>
#include <string_view>

namespace vkdream::cli {

EngineFlags parse_engine_flags(int argc, char** argv, int first) {
  EngineFlags f;
  auto& dirs = f.options.directories;
  // Defaults relative to the working directory, as ComfyUI's own folders are.
  dirs["models"] = "models";
  dirs["input"] = "input";
  dirs["output"] = "output";
  dirs["temp"] = "temp";
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        f.error = std::string(name) + " needs a value";
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      f.help = true;
    } else if (a == "-q" || a == "--quiet") {
      f.quiet = true;
    } else if (a == "--models" || a == "--input" || a == "--out" || a == "--output" || a == "--temp") {
      const char* v = value(argv[i]);
      if (!v) return f;
      std::string kind = a == "--out" || a == "--output" ? "output" : std::string(a.substr(2));
      dirs[kind] = v;
    } else if (a == "--plugins") {
      const char* v = value("--plugins");
      if (!v) return f;
      f.options.plugin_paths.push_back(v);
    } else if (a == "--cache-mb") {
      const char* v = value("--cache-mb");
      if (!v) return f;
      char* end = nullptr;
      unsigned long long mb = std::strtoull(v, &end, 10);
      if (!end || *end) {
        f.error = "--cache-mb needs a number of MiB";
        return f;
      }
      f.options.cache_budget_bytes = mb << 20;
    } else if (a.size() > 1 && a[0] == '-') {
      f.error = "unknown option " + std::string(a);
      return f;
    } else {
      f.positional.emplace_back(a);
    }
  }
  return f;
}

}  // namespace vkdream::cli
