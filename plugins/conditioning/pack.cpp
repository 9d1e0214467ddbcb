#include "comfy_schemas.h"
#include "conditioning.h"

namespace cs = vkdream::comfy_schemas;
namespace cn = vkdream::packs::conditioning;

VKD_PLUGIN("conditioning", "1.0", [](vkd::Plugin& p) {
  cs::clip_text_encode(p).execute(cn::clip_text_encode);
  cs::clip_set_last_layer(p).execute(cn::clip_set_last_layer);
  cs::conditioning_combine(p).execute(cn::conditioning_combine);
  cs::conditioning_concat(p).execute(cn::conditioning_concat);
  cs::conditioning_average(p).execute(cn::conditioning_average);
  cs::conditioning_set_area(p).execute(cn::conditioning_set_area);
  cs::conditioning_set_mask(p).execute(cn::conditioning_set_mask);
  cs::conditioning_set_timestep_range(p).execute(cn::conditioning_set_timestep_range);
  cs::conditioning_zero_out(p).execute(cn::conditioning_zero_out);
})
