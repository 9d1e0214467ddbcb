// Classifier-free guidance for an SD1.x eps UNet, as ComfyUI's CFGGuider does it: the conditional
// and unconditional passes run as one UNet batch, denoised = uncond + (cond - uncond) * cfg, and
// at cfg = 1 the unconditional pass is skipped (unless a CFG++ sampler asks for it).
#pragma once
#include "model/unet.h"
#include "sampling/model_sampling.h"
#include "sampling/sampler.h"

namespace vkdream::sampling {

struct Guidance {
  Tensor cond;    // [1, Lc, context_dim]
  Tensor uncond;  // [1, Lu, context_dim]
  double cfg = 8.0;
};

// A Denoiser over x [B, C, h, w] for the sampler family. Contexts of different token lengths are
// repeated to their least common multiple (ComfyUI's cond concatenation rule).
Denoiser cfg_denoiser(const model::UNet& unet, const ModelSamplingDiscrete& ms, Guidance g);

}  // namespace vkdream::sampling
