// `vkdream tiny-checkpoint DIR`: writes the tiny SD1.5-layout test checkpoint (random weights, the exact file the
// goldens were made with; tiny-sd15.safetensors and tiny-sd15-fp16.safetensors) into DIR, so the API can be tried
// end to end without downloading a model. It makes noise-like images, not pictures.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "model/tiny_sd15.h"

namespace vkdream::cli {

int tiny_checkpoint_command(int argc, char** argv) {
  if (argc != 3 || argv[2][0] == '-') {
    std::fprintf(stderr, "usage: vkdream tiny-checkpoint DIR\n"
                         "Writes the tiny SD1.5-layout test checkpoints (random weights) into DIR.\n");
    return 2;
  }
  try {
    model::TinySD15Paths p = model::ensure_tiny_sd15(argv[2]);
    std::printf("%s\n%s\n", p.f32.c_str(), p.f16.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vkdream tiny-checkpoint: %s\n", e.what());
    return 1;
  }
}

}  // namespace vkdream::cli
