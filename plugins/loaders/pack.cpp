#include "comfy_schemas.h"
#include "loaders.h"

namespace cs = vkdream::comfy_schemas;
namespace ld = vkdream::packs::loaders;

VKD_PLUGIN("loaders", "1.0", [](vkd::Plugin& p) {
  cs::checkpoint_loader_simple(p).execute(ld::checkpoint_loader_simple);
  cs::vae_loader(p).execute(ld::vae_loader);
  cs::lora_loader(p).execute(ld::lora_loader);
  cs::lora_loader_model_only(p).execute(ld::lora_loader_model_only);
})
