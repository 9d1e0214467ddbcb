// Internal to core/sampling: the state one sampler run shares with the update-rule code
// (model calls with the interrupt check, callbacks, per-step noise, linear combinations).
#pragma once
#include <cmath>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sampling/brownian.h"
#include "sampling/sampler.h"

namespace vkdream::sampling::detail {

struct Run {
  Run(vk::Stream& s, const Denoiser& model, const SampleOptions& opt, int total)
      : s(s), model(model), opt(opt), total(total) {}

  vk::Stream& s;
  const Denoiser& model;
  const SampleOptions& opt;
  int total;
  int calls = 0;
  std::optional<StepNoise> step_noise;
  std::unique_ptr<BrownianTreeNoiseSampler> brownian;

  // model(x, sigma) after the interrupt check.
  Tensor denoise(const Tensor& x, double sigma, Tensor* uncond = nullptr);
  // model(x, sigma) that also returns the uncond prediction (cfg_pp samplers).
  Tensor denoise_cfg_pp(const Tensor& x, double sigma, Tensor& uncond);
  void callback(int i, const Tensor& x, const Tensor& denoised, double sigma);
  // default_noise_sampler(x, seed): next randn(x.shape) from the CPU (seed + 1) or CUDA (seed) generator.
  Tensor noise(const Tensor& like);
  // BrownianTreeNoiseSampler(x, sigma_min, sigma_max, seed)(sigma, sigma_next), built on first use.
  Tensor brownian_noise(const Tensor& like, const std::vector<float>& sigmas, double sigma, double sigma_next);

  // sum c_k x_k (+ bias), any number of terms (chained lincombs of up to 6).
  Tensor lin(std::initializer_list<std::pair<double, const Tensor*>> terms, double bias = 0.0);
  Tensor lin(const std::vector<std::pair<double, const Tensor*>>& terms, double bias = 0.0);
};

using SamplerFn = Tensor (*)(Run& r, Tensor x, const std::vector<float>& sigmas);

// get_ancestral_step(sigma_from, sigma_to, eta) -> (sigma_down, sigma_up), in float32 as
// k-diffusion computes it on float32 sigma tensors: where the result picks a model timestep (the
// discrete argmin of dpm_2's midpoint), double rounding can land on the neighbouring table entry.
inline std::pair<double, double> ancestral_step(double from_d, double to_d, double eta_d) {
  float from = float(from_d), to = float(to_d), eta = float(eta_d);
  if (eta == 0.0f) return {to, 0.0};
  float up = std::min(to, eta * std::sqrt(std::max(0.0f, to * to * (from * from - to * to) / (from * from))));
  float down = std::sqrt(std::max(0.0f, to * to - up * up));
  return {down, up};
}

// exp(lerp(log(a), log(b), 0.5)) in float32, with torch.lerp's formula for weight 0.5.
inline float log_midpoint_f32(float a, float b) {
  float la = std::log(a), lb = std::log(b);
  return std::exp(lb - (lb - la) * 0.5f);
}

// The families (one file each).
Tensor sample_euler(Run&, Tensor, const std::vector<float>&);
Tensor sample_euler_ancestral(Run&, Tensor, const std::vector<float>&);
Tensor sample_heun(Run&, Tensor, const std::vector<float>&);
Tensor sample_heunpp2(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpm_2(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpm_2_ancestral(Run&, Tensor, const std::vector<float>&);
Tensor sample_euler_cfg_pp(Run&, Tensor, const std::vector<float>&);
Tensor sample_euler_ancestral_cfg_pp(Run&, Tensor, const std::vector<float>&);

Tensor sample_lms(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpm_fast(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpm_adaptive(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpmpp_2s_ancestral(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpmpp_2s_ancestral_cfg_pp(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpmpp_sde(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpmpp_2m(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpmpp_2m_cfg_pp(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpmpp_2m_sde(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpmpp_2m_sde_heun(Run&, Tensor, const std::vector<float>&);
Tensor sample_dpmpp_3m_sde(Run&, Tensor, const std::vector<float>&);

Tensor sample_ddpm(Run&, Tensor, const std::vector<float>&);
Tensor sample_lcm(Run&, Tensor, const std::vector<float>&);
Tensor sample_ipndm(Run&, Tensor, const std::vector<float>&);
Tensor sample_ipndm_v(Run&, Tensor, const std::vector<float>&);
Tensor sample_deis(Run&, Tensor, const std::vector<float>&);
Tensor sample_res_multistep(Run&, Tensor, const std::vector<float>&);
Tensor sample_res_multistep_cfg_pp(Run&, Tensor, const std::vector<float>&);
Tensor sample_res_multistep_ancestral(Run&, Tensor, const std::vector<float>&);
Tensor sample_res_multistep_ancestral_cfg_pp(Run&, Tensor, const std::vector<float>&);
Tensor sample_gradient_estimation(Run&, Tensor, const std::vector<float>&);
Tensor sample_gradient_estimation_cfg_pp(Run&, Tensor, const std::vector<float>&);
Tensor sample_er_sde(Run&, Tensor, const std::vector<float>&);
Tensor sample_seeds_2(Run&, Tensor, const std::vector<float>&);
Tensor sample_seeds_3(Run&, Tensor, const std::vector<float>&);
Tensor sample_exp_heun_2_x0(Run&, Tensor, const std::vector<float>&);
Tensor sample_exp_heun_2_x0_sde(Run&, Tensor, const std::vector<float>&);

Tensor sample_uni_pc(Run&, Tensor, const std::vector<float>&);
Tensor sample_uni_pc_bh2(Run&, Tensor, const std::vector<float>&);

// dpm_adaptive's error norm: ||(a - b) / max(atol, rtol * max(|a|, |c|))||_2 / sqrt(n), on the GPU.
double adaptive_error_norm(vk::Stream& s, const Tensor& a, const Tensor& b, const Tensor& c, double atol, double rtol);

}  // namespace vkdream::sampling::detail
