// Command-line flags shared by the subcommands that build an Engine: --models, --input, --out, --temp,
// --plugins (repeatable; replaces the default plugin folders), --cache-mb.
#pragma once

#include <string>
#include <vector>

#include "graph/engine.h"

namespace vkdream::cli {

struct EngineFlags {
  vkdream::graph::EngineOptions options;
  std::vector<std::string> positional;
  std::string error;  // non-empty: a bad flag (the message says which)
  bool help = false;
  bool quiet = false;
};

EngineFlags parse_engine_flags(int argc, char** argv, int first);

}  // namespace vkdream::cli
