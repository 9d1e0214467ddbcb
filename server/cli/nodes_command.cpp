#include <cstdio>

#include "cli/commands.h"
#include "cli/engine_flags.h"

namespace vkdream::cli {

int nodes_command(int argc, char** argv) {
  EngineFlags f = parse_engine_flags(argc, argv, 2);
  if (f.help || !f.error.empty()) {
    if (!f.error.empty()) std::fprintf(stderr, "vkdream nodes: %s\n", f.error.c_str());
    std::fprintf(stderr, "usage: vkdream nodes [--plugins DIR]... [--models DIR] [--input DIR]\n"
                         "Prints ComfyUI's /object_info JSON for every node the plugins declare.\n");
    return f.help ? 0 : 2;
  }
  graph::Engine engine(std::move(f.options));
  std::string out = engine.object_info().dump();
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fputc('\n', stdout);
  return engine.plugin_errors().empty() ? 0 : 1;
}

}  // namespace vkdream::cli
