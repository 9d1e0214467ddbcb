// ComfyUI's sigma schedulers on a discrete model schedule, and KSampler's rules for denoise < 1
// and for samplers that take one extra sigma and drop the penultimate one.
#pragma once
#include <string>
#include <vector>

#include "sampling/model_sampling.h"

namespace vkdream::sampling {

// The scheduler names ComfyUI offers (KSampler's `scheduler` combo), in its order.
const std::vector<std::string>& scheduler_names();
bool is_scheduler(const std::string& name);

// comfy.samplers.calculate_sigmas(model_sampling, name, steps): steps + 1 values ending in 0
// (ddim_uniform and normal may differ when the table reaches 0). Throws std::invalid_argument for
// an unknown name.
std::vector<float> calculate_sigmas(const ModelSamplingDiscrete& ms, const std::string& scheduler, int steps);

// KSampler(...).sigmas: the discard-penultimate rule for dpm_2, dpm_2_ancestral, uni_pc, uni_pc_bh2,
// and for denoise < 1 (> 0.9999 counts as 1) int(steps / denoise) sigmas of which the last steps+1
// are kept; denoise <= 0 gives an empty list.
std::vector<float> ksampler_sigmas(const ModelSamplingDiscrete& ms, const std::string& scheduler,
                                   const std::string& sampler, int steps, double denoise);
bool sampler_discards_penultimate_sigma(const std::string& sampler);

}  // namespace vkdream::sampling
