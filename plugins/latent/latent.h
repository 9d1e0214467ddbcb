// The latent pack: EmptyLatentImage, LatentUpscale, LatentUpscaleBy, RepeatLatentBatch, LatentFromBatch,
// SetLatentNoiseMask.
#pragma once

#include <string>

#include "ops/resize.h"
#include "tensor/tensor.h"
#include "vkdream/plugin.hpp"

namespace vkdream::packs::latent {

void empty_latent_image(vkd::Context& c);
void latent_upscale(vkd::Context& c);
void latent_upscale_by(vkd::Context& c);
void repeat_latent_batch(vkd::Context& c);
void latent_from_batch(vkd::Context& c);
void set_latent_noise_mask(vkd::Context& c);

}  // namespace vkdream::packs::latent
