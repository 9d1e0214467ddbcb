// `vkdream`: one binary, three jobs. `serve` runs the HTTP server (server/http), `run` executes one prompt file,
// `nodes` lists the loaded nodes as /object_info JSON.
#include <cstdio>
#include <cstring>

#include "cli/commands.h"
#include "vkdream/version.h"

#ifdef VKDREAM_HAVE_HTTP
namespace vkdream::server {
int serve_main(int argc, char** argv);
}
#endif

static int usage(FILE* to) {
  std::fprintf(to,
               "vkdream " VKD_VERSION_STRING ": ComfyUI API-format Stable Diffusion graphs on Vulkan compute\n"
               "usage:\n"
               "  vkdream serve [options]        HTTP server (port 3000 serving API, port 8188 ComfyUI API)\n"
               "  vkdream run PROMPT.json [...]  run one prompt without the server (vkdream run --help)\n"
               "  vkdream nodes [...]            print /object_info of every loaded node\n"
               "  vkdream tiny-checkpoint DIR    write the tiny SD1.5-layout test checkpoint (random weights)\n"
               "  vkdream --version\n");
  return to == stdout ? 0 : 2;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  const char* cmd = argv[1];
  if (!std::strcmp(cmd, "run")) return vkdream::cli::run_command(argc, argv);
  if (!std::strcmp(cmd, "nodes")) return vkdream::cli::nodes_command(argc, argv);
  if (!std::strcmp(cmd, "tiny-checkpoint")) return vkdream::cli::tiny_checkpoint_command(argc, argv);
  if (!std::strcmp(cmd, "serve")) {
#ifdef VKDREAM_HAVE_HTTP
    return vkdream::server::serve_main(argc, argv);
#else
    std::fprintf(stderr, "vkdream serve: this build has no HTTP server\n");
    return 2;
#endif
  }
  if (!std::strcmp(cmd, "--version")) {
    std::printf("vkdream %s\n", VKD_VERSION_STRING);
    return 0;
  }
  if (!std::strcmp(cmd, "-h") || !std::strcmp(cmd, "--help") || !std::strcmp(cmd, "help")) return usage(stdout);
  std::fprintf(stderr, "vkdream: unknown command '%s'\n", cmd);
  return usage(stderr);
}
