// The conditioning pack: CLIPTextEncode, CLIPSetLastLayer and ComfyUI's CONDITIONING list operations.
#pragma once

#include "vkdream/plugin.hpp"

namespace vkdream::packs::conditioning {

void clip_text_encode(vkd::Context& c);
void clip_set_last_layer(vkd::Context& c);
void conditioning_combine(vkd::Context& c);
void conditioning_concat(vkd::Context& c);
void conditioning_average(vkd::Context& c);
void conditioning_set_area(vkd::Context& c);
void conditioning_set_mask(vkd::Context& c);
void conditioning_set_timestep_range(vkd::Context& c);
void conditioning_zero_out(vkd::Context& c);

}  // namespace vkdream::packs::conditioning
