// What ComfyUI's KSampler and KSamplerAdvanced nodes do (nodes.py common_ksampler, comfy/sample.py,
// comfy/samplers.py KSampler.sample, CFGGuider, KSAMPLER, KSamplerX0Inpaint), as one call:
//   noise = prepare_noise(seed, latent shape, batch_index), or zeros when add_noise is off;
//   sigmas = the scheduler's (steps, denoise) schedule, cut after last_step (its last sigma set to 0
//            when force_full_denoise), then started at start_step (the latent comes back unchanged
//            when start_step >= the number of steps left);
//   x = latent*0.18215 + noise*sigma0 (or *sqrt(1+sigma0^2) at full noise), sampled with CFG over
//       the conditioning; with a noise_mask, every model call sees x*m + (latent*0.18215 + noise*sigma)*(1-m)
//       and returns denoised*m + latent*0.18215*(1-m);
//   result / 0.18215.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "sampling/cfg.h"
#include "sampling/conditioning.h"
#include "sampling/sampler.h"

namespace vkdream::sampling {

struct KSamplerRequest {
  uint64_t seed = 0;
  int steps = 20;
  double cfg = 8.0;
  std::string sampler = "euler", scheduler = "normal";
  double denoise = 1.0;
  bool add_noise = true;        // KSamplerAdvanced add_noise ("disable" -> zero noise)
  int start_step = 0;           // KSamplerAdvanced start_at_step
  int last_step = 10000;        // KSamplerAdvanced end_at_step
  bool force_full_denoise = true;  // KSamplerAdvanced: return_with_leftover_noise == "disable"
  std::optional<Tensor> noise_mask;  // LATENT "noise_mask": [H, W], [B, H, W] or [B, 1, H, W], any size
  std::vector<int64_t> batch_index;  // LATENT "batch_index" (empty: absent)
};
// The KSampler node is KSamplerRequest{seed, steps, cfg, sampler, scheduler, denoise} with the
// defaults above (start 0, last 10000, force_full_denoise true: no truncation happens).

// KSampler.sample's sigma list for a request: ksampler_sigmas(scheduler, sampler, steps, denoise),
// then sigmas[:last_step+1] (last one set to 0 when force_full_denoise) when last_step < len-1,
// then sigmas[start_step:]. nullopt when start_step >= len-1: ComfyUI returns the latent unchanged.
// Throws SamplerError for a negative start/last step or an unknown scheduler.
std::optional<std::vector<float>> ksampler_request_sigmas(const ModelSamplingDiscrete& ms, const KSamplerRequest& req);

// The request's noise [B, C, h, w] (f32): prepare_noise(seed, shape, batch_index) or zeros.
Tensor ksampler_noise(vk::Stream& s, const KSamplerRequest& req, const Shape& latent_shape);

// comfy.sampler_helpers.prepare_mask: the noise mask as [-1, 1, H, W], bilinearly resized
// (align_corners=False) to the latent, repeated over channels and to the batch (repeat_to_batch_size).
Tensor prepare_noise_mask(vk::Stream& s, const Tensor& noise_mask, const Shape& latent_shape);

// KSamplerX0Inpaint around `inner`: mask [B, C, h, w] (prepare_noise_mask), latent_image and noise in
// model space (latent*0.18215, and the noise of the run). The uncond prediction of a CFG++ sampler
// passes through unblended, as ComfyUI's post-CFG hook sees it.
Denoiser inpaint_denoiser(Denoiser inner, Tensor mask, Tensor latent_image, Tensor noise);

// latent: LATENT samples [B, 4, h, w] in VAE space -> sampled latent in VAE space. `opt` supplies
// on_step / interrupted / eta / s_noise / noise_rule / cuda_device; its seed is replaced by req.seed (ComfyUI
// passes the node's seed to the sampler for the per-step noise).
Tensor common_ksampler(vk::Stream& s, EpsFn eps, const ModelSamplingDiscrete& ms, const Conditioning& positive,
                       const Conditioning& negative, const Tensor& latent, const KSamplerRequest& req,
                       const SampleOptions& opt, CondBatchOptions batch = {});

}  // namespace vkdream::sampling
