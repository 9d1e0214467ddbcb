#include "comfy_schemas.h"
#include "vkdream/plugin.hpp"

namespace vkdream::packs::vae_nodes {
void vae_decode(vkd::Context& c);
void vae_encode(vkd::Context& c);
void vae_decode_tiled(vkd::Context& c);
void vae_encode_tiled(vkd::Context& c);
void vae_encode_for_inpaint(vkd::Context& c);
}  // namespace vkdream::packs::vae_nodes

namespace cs = vkdream::comfy_schemas;
namespace vn = vkdream::packs::vae_nodes;

VKD_PLUGIN("vae", "1.0", [](vkd::Plugin& p) {
  cs::vae_decode(p).execute(vn::vae_decode);
  cs::vae_encode(p).execute(vn::vae_encode);
  cs::vae_decode_tiled(p).execute(vn::vae_decode_tiled);
  cs::vae_encode_tiled(p).execute(vn::vae_encode_tiled);
  cs::vae_encode_for_inpaint(p).execute(vn::vae_encode_for_inpaint);
})
