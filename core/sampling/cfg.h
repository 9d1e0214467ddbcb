// Classifier-free guidance over ComfyUI CONDITIONING for an SD1.x eps UNet, as CFGGuider does it
// (comfy/samplers.py sampling_function, calc_cond_batch, get_area_and_mult, cfg_function):
//   - each entry of positive and negative is evaluated at its area of x (timestep-range entries
//     only inside their sigma range), entries of equal shape in one UNet batch (context token
//     lengths repeated to their least common multiple, when that is at most 4x the shortest);
//   - each side's prediction is sum(denoised_e * mult_e) / (1e-37 + sum(mult_e)) per latent cell,
//     with mult_e = mask * mask_strength * strength, or strength feathered at area borders;
//   - denoised = uncond + (cond - uncond) * cfg; at cfg 1 the negative side is not evaluated
//     (unless a CFG++ sampler asks for the uncond prediction).
#pragma once
#include <functional>
#include <vector>

#include "model/unet.h"
#include "sampling/conditioning.h"
#include "sampling/model_sampling.h"
#include "sampling/sampler.h"

namespace vkdream::sampling {

// The UNet forward, already bound to its model patches: eps for x_in (already scaled by
// 1/sqrt(sigma^2+1)) [N, C, h, w] at `timesteps` (N values) with `context` [N, L, D].
using EpsFn = std::function<Tensor(vk::Stream&, const Tensor& x_in, const std::vector<float>& timesteps,
                                   const Tensor& context)>;

struct CondBatchOptions {
  // At most this many entries per UNet call (ComfyUI splits a batch when memory is short); 0 = all
  // entries that can share a batch.
  int max_batch_entries = 0;
  // Called with the number of entries of each UNet call (tests, logging).
  std::function<void(int entries, const Shape& x_in)> on_model_call;
};

// calc_cond_batch: for each list of `conds` (nullptr: not evaluated, gives zeros), the weighted
// denoised prediction at x [B, C, H, W] and sigma.
std::vector<Tensor> calc_cond_batch(vk::Stream& s, const EpsFn& eps, const ModelSamplingDiscrete& ms,
                                    const std::vector<const std::vector<ResolvedCond>*>& conds, const Tensor& x,
                                    float sigma, const CondBatchOptions& opt = {});

// A Denoiser for the sampler family: process_conds once per latent size, then per call
// calc_cond_batch and cfg_function. Keeps `eps` and `ms` by value / reference: `ms` must outlive it.
Denoiser guided_denoiser(EpsFn eps, const ModelSamplingDiscrete& ms, Conditioning positive, Conditioning negative,
                         double cfg, CondBatchOptions opt = {});

// The UNet as an EpsFn (no model patches).
EpsFn unet_eps(const model::UNet& unet);

struct Guidance {
  Tensor cond;    // [1, Lc, context_dim]
  Tensor uncond;  // [1, Lu, context_dim]
  double cfg = 8.0;
};

// One positive and one negative context: guided_denoiser(unet_eps(unet), ms, {{cond}}, {{uncond}}, cfg).
Denoiser cfg_denoiser(const model::UNet& unet, const ModelSamplingDiscrete& ms, Guidance g);

}  // namespace vkdream::sampling
