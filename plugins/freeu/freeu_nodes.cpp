// FreeU and FreeU_V2 (comfy_extras/nodes_freelunch.py): a new MODEL whose UNet forward applies the FreeU
// output-block patch (model/unet_patches.h; the skip's Fourier filter runs through VkFFT).
#include "comfy_schemas.h"
#include "pack_util.h"

namespace vkdream::packs::freeu {

namespace {

void patch(vkd::Context& c, int version) {
  payload::Model m = model_in(c, "model");
  model::FreeUPatch p;
  p.version = version;
  p.b1 = c.get_float("b1");
  p.b2 = c.get_float("b2");
  p.s1 = c.get_float("s1");
  p.s2 = c.get_float("s2");
  m.patches.freeu = p;
  set_model(c, 0, std::move(m), 0);  // shares the weights of its input
}

}  // namespace

void freeu_v1(vkd::Context& c) { patch(c, 1); }
void freeu_v2(vkd::Context& c) { patch(c, 2); }

}  // namespace vkdream::packs::freeu

namespace cs = vkdream::comfy_schemas;

VKD_PLUGIN("freeu", "1.0", [](vkd::Plugin& p) {
  cs::freeu(p).execute(vkdream::packs::freeu::freeu_v1);
  cs::freeu_v2(p).execute(vkdream::packs::freeu::freeu_v2);
})
