// ComfyUI's k-diffusion sampler family on device latents (comfy/k_diffusion/sampling.py,
// comfy/extra_samplers/uni_pc.py, comfy/samplers.py KSAMPLER). Every tensor update is a GPU op
// (mostly ops::lincomb); the CPU computes the scalar coefficients, draws the noise and runs the
// control flow.
//
// The model side plugs in as a Denoiser: given x (model space, i.e. VAE latent * 0.18215 plus
// noise) and sigma it returns the denoised prediction D(x, sigma) = x - sigma * eps, already
// combined by CFG. The CFG++ samplers (`*_cfg_pp`) also need the unconditional prediction: they
// pass a non-null `uncond` pointer, and the denoiser must then store the uncond denoised
// prediction (x - sigma * eps_uncond) there, even at cfg 1 (ComfyUI's disable_cfg1_optimization).
// Samplers that do not need it pass nullptr.
#pragma once
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sampling/cuda_philox.h"
#include "sampling/model_sampling.h"
#include "sampling/torch_rng.h"
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::sampling {

// D(x, sigma); when `uncond` is non-null it must also receive the uncond denoised prediction.
using Denoiser = std::function<Tensor(vk::Stream& s, const Tensor& x, float sigma, Tensor* uncond)>;
// A denoiser without an uncond output (plain model or fixed replay); cfg_pp samplers refuse it.
Denoiser simple_denoiser(std::function<Tensor(vk::Stream& s, const Tensor& x, float sigma)> fn);

// Thrown when the interrupt check says stop; raised before a model call, so a run stops within
// one step (at most one model evaluation after the flag is set).
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("sampling interrupted") {}
};

// Unknown sampler name, bad sigmas, a cfg_pp sampler without uncond, ...
class SamplerError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Where the per-step noise of the ancestral/stochastic samplers (default_noise_sampler) comes from.
// ComfyUI's rule depends on the latent's device: on the CPU a torch CPU generator seeded with
// seed + 1 (what the goldens pin down); on an NVIDIA GPU a torch CUDA (Philox) generator seeded with
// seed, whose draws also depend on the GPU's SM count for large latents (see cuda_philox.h). The
// Brownian-tree SDE samplers keep their own tree either way.
enum class NoiseRule { kCpuGenerator, kCudaGenerator };

// default_noise_sampler: successive torch.randn(x.shape) draws from one generator, uploaded.
class StepNoise {
 public:
  StepNoise(uint64_t seed, NoiseRule rule = NoiseRule::kCpuGenerator, CudaDeviceShape cuda_device = {});
  // The next randn(shape) draw, as an f32 tensor (dtype converted if `dtype` is f16).
  Tensor next(vk::Stream& s, const Shape& shape, DType dtype = DType::F32);
  // The same draw on the host.
  std::vector<float> next_host(int64_t n);
  int draws() const { return draws_; }
  NoiseRule rule() const { return rule_; }

 private:
  NoiseRule rule_;
  TorchGenerator cpu_;
  CudaGenerator cuda_;
  int draws_ = 0;
};

// The step-noise setting as a deployment chooses it (the KSampler nodes read it from the
// environment): VKDREAM_STEP_NOISE = "cpu" (default: ComfyUI on the CPU) or "cuda" (ComfyUI on an
// NVIDIA GPU); VKDREAM_CUDA_SM_COUNT / VKDREAM_CUDA_THREADS_PER_SM describe that GPU (default an RTX
// 4090: 128, 1536). Each argument is the variable's value, nullptr or "" when unset. Throws
// SamplerError naming the variable for an invalid value.
struct StepNoiseSetting {
  NoiseRule rule = NoiseRule::kCpuGenerator;
  CudaDeviceShape cuda_device;
};
StepNoiseSetting parse_step_noise_setting(const char* step_noise, const char* sm_count, const char* threads_per_sm);

struct StepInfo {
  int step;         // 0-based, ComfyUI's callback `i`
  int total;        // len(sigmas) - 1
  const Tensor& x;  // what ComfyUI passes as x (see sampler notes: uni_pc's is VP-scaled, ipndm/deis's is the start x)
  const Tensor& denoised;
  float sigma;
};

struct SampleOptions {
  uint64_t seed = 0;
  NoiseRule noise_rule = NoiseRule::kCpuGenerator;
  CudaDeviceShape cuda_device;  // the GPU whose draws kCudaGenerator reproduces
  // Called once per step with the step's x and denoised (ComfyUI's KSAMPLER callback).
  std::function<void(const StepInfo&)> on_step;
  // Checked before every model call; true -> Interrupted is thrown.
  std::function<bool()> interrupted;
  // Sampler parameters with ComfyUI's defaults (the KSampler node never changes them).
  double eta = 1.0;      // ancestral/SDE samplers
  double s_noise = 1.0;  // noise multiplier
};

// ComfyUI's KSampler sampler names (comfy.samplers.SAMPLER_NAMES of v0.8.0, 44 names, in order).
const std::vector<std::string>& sampler_names();
bool is_sampler(const std::string& name);
// Names this build implements (all of sampler_names() except those listed by sampler_unsupported_reason).
// Empty string when implemented, else why not.
std::string sampler_unsupported_reason(const std::string& name);

// Runs sampler `name` from x (model space, noise already scaled in) over `sigmas` (f32 values as
// ComfyUI computed them). Returns the final x in model space. Throws SamplerError for an unknown
// name, Interrupted when stopped.
Tensor sample(vk::Stream& s, const std::string& name, const Denoiser& model, const Tensor& x,
              const std::vector<float>& sigmas, const SampleOptions& opt);

// The number of model calls sampler `name` makes per run of `sigmas`, when fixed (-1 when it
// depends on the data, e.g. dpm_adaptive).
int expected_model_calls(const std::string& name, const std::vector<float>& sigmas);

// KSAMPLER.sample + CFGGuider's latent scaling, for an SD1.x eps model:
//   x = latent*0.18215 + noise*sqrt(1+sigma0^2)  when sigma0 is within rel 1e-5 of sigma_max or above,
//   x = latent*0.18215 + noise*sigma0            otherwise (img2img / denoise < 1),
// then sample(...), then / 0.18215. `latent` is in VAE space; empty sigmas return `latent`.
constexpr double kSD15LatentScale = 0.18215;
Tensor ksampler_sample(vk::Stream& s, const std::string& name, const Denoiser& model, const Tensor& latent,
                       const Tensor& noise, const std::vector<float>& sigmas, const ModelSamplingDiscrete& ms,
                       const SampleOptions& opt);
// Whether KSAMPLER treats sigma0 as "max denoise" (full noise).
bool is_max_denoise(const ModelSamplingDiscrete& ms, float sigma0);

}  // namespace vkdream::sampling
