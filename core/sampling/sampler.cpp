#include "sampling/sampler.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "ops/elementwise.h"
#include "ops/op_util.h"
#include "sampling/sa_solver.h"
#include "sampling/sampler_context.h"

namespace vkdream::sampling {

Denoiser simple_denoiser(std::function<Tensor(vk::Stream& s, const Tensor& x, float sigma)> fn) {
  return [fn = std::move(fn)](vk::Stream& s, const Tensor& x, float sigma, Tensor* uncond) -> Tensor {
    if (uncond)
      throw SamplerError("this sampler needs the unconditional prediction (a cfg_pp sampler), which this "
                         "denoiser does not provide");
    return fn(s, x, sigma);
  };
}

// ---------------------------------------------------------------- noise

// The CPU rule seeds with seed + 1, the CUDA rule with seed (comfy default_noise_sampler).
StepNoise::StepNoise(uint64_t seed, NoiseRule rule, CudaDeviceShape cuda_device)
    : rule_(rule), cpu_(seed + 1), cuda_(seed, cuda_device) {}

std::vector<float> StepNoise::next_host(int64_t n) {
  ++draws_;
  return rule_ == NoiseRule::kCudaGenerator ? cuda_.randn(n) : cpu_.randn(n);
}

Tensor StepNoise::next(vk::Stream& s, const Shape& shape, DType dtype) {
  return from_host(s, shape, dtype, next_host(shape_numel(shape)));
}

namespace {
// A positive decimal integer, or SamplerError naming the variable.
int parse_positive(const char* var, const char* value, int min) {
  std::string v(value);
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE || n < min || n > 1000000)
    throw SamplerError(std::string(var) + "='" + v + "' is not valid: expected an integer >= " + std::to_string(min));
  return int(n);
}
}  // namespace

StepNoiseSetting parse_step_noise_setting(const char* step_noise, const char* sm_count, const char* threads_per_sm) {
  StepNoiseSetting out;
  std::string rule = step_noise ? step_noise : "";
  if (rule == "cuda") out.rule = NoiseRule::kCudaGenerator;
  else if (!rule.empty() && rule != "cpu")
    throw SamplerError("VKDREAM_STEP_NOISE='" + rule +
                       "' is not valid: expected 'cpu' (ComfyUI on the CPU, the default) or 'cuda' (ComfyUI on an "
                       "NVIDIA GPU)");
  if (sm_count && *sm_count) out.cuda_device.sm_count = parse_positive("VKDREAM_CUDA_SM_COUNT", sm_count, 1);
  if (threads_per_sm && *threads_per_sm)
    out.cuda_device.max_threads_per_sm =
        parse_positive("VKDREAM_CUDA_THREADS_PER_SM", threads_per_sm, int(CudaGenerator::kBlockSize));
  return out;
}

// ---------------------------------------------------------------- names

const std::vector<std::string>& sampler_names() {
  static const std::vector<std::string> names = {
      "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2",
      "exp_heun_2_x0", "exp_heun_2_x0_sde", "dpm_2", "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive",
      "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp", "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m",
      "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu", "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu",
      "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm", "ipndm", "ipndm_v", "deis", "res_multistep",
      "res_multistep_cfg_pp", "res_multistep_ancestral", "res_multistep_ancestral_cfg_pp", "gradient_estimation",
      "gradient_estimation_cfg_pp", "er_sde", "seeds_2", "seeds_3", "sa_solver", "sa_solver_pece", "ddim",
      "uni_pc", "uni_pc_bh2"};
  return names;
}

bool is_sampler(const std::string& name) {
  const auto& n = sampler_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

namespace {
using detail::SamplerFn;
const std::map<std::string, SamplerFn>& table() {
  using namespace detail;
  static const std::map<std::string, SamplerFn> t = {
      {"euler", sample_euler},
      {"ddim", sample_euler},  // ComfyUI's ddim is the Euler sampler (its inpaint noise is unused here)
      {"euler_cfg_pp", sample_euler_cfg_pp},
      {"euler_ancestral", sample_euler_ancestral},
      {"euler_ancestral_cfg_pp", sample_euler_ancestral_cfg_pp},
      {"heun", sample_heun},
      {"heunpp2", sample_heunpp2},
      {"exp_heun_2_x0", sample_exp_heun_2_x0},
      {"exp_heun_2_x0_sde", sample_exp_heun_2_x0_sde},
      {"dpm_2", sample_dpm_2},
      {"dpm_2_ancestral", sample_dpm_2_ancestral},
      {"lms", sample_lms},
      {"dpm_fast", sample_dpm_fast},
      {"dpm_adaptive", sample_dpm_adaptive},
      {"dpmpp_2s_ancestral", sample_dpmpp_2s_ancestral},
      {"dpmpp_2s_ancestral_cfg_pp", sample_dpmpp_2s_ancestral_cfg_pp},
      {"dpmpp_sde", sample_dpmpp_sde},
      {"dpmpp_sde_gpu", sample_dpmpp_sde},  // same solver; the tree lives on the CPU here either way
      {"dpmpp_2m", sample_dpmpp_2m},
      {"dpmpp_2m_cfg_pp", sample_dpmpp_2m_cfg_pp},
      {"dpmpp_2m_sde", sample_dpmpp_2m_sde},
      {"dpmpp_2m_sde_gpu", sample_dpmpp_2m_sde},
      {"dpmpp_2m_sde_heun", sample_dpmpp_2m_sde_heun},
      {"dpmpp_2m_sde_heun_gpu", sample_dpmpp_2m_sde_heun},
      {"dpmpp_3m_sde", sample_dpmpp_3m_sde},
      {"dpmpp_3m_sde_gpu", sample_dpmpp_3m_sde},
      {"ddpm", sample_ddpm},
      {"lcm", sample_lcm},
      {"ipndm", sample_ipndm},
      {"ipndm_v", sample_ipndm_v},
      {"deis", sample_deis},
      {"res_multistep", sample_res_multistep},
      {"res_multistep_cfg_pp", sample_res_multistep_cfg_pp},
      {"res_multistep_ancestral", sample_res_multistep_ancestral},
      {"res_multistep_ancestral_cfg_pp", sample_res_multistep_ancestral_cfg_pp},
      {"gradient_estimation", sample_gradient_estimation},
      {"gradient_estimation_cfg_pp", sample_gradient_estimation_cfg_pp},
      {"er_sde", sample_er_sde},
      {"seeds_2", sample_seeds_2},
      {"seeds_3", sample_seeds_3},
      {"sa_solver", sample_sa_solver},
      {"sa_solver_pece", sample_sa_solver_pece},
      {"uni_pc", sample_uni_pc},
      {"uni_pc_bh2", sample_uni_pc_bh2},
  };
  return t;
}
}  // namespace

std::string sampler_unsupported_reason(const std::string& name) {
  if (!is_sampler(name)) return "unknown sampler '" + name + "'";
  if (table().count(name)) return "";
  return "sampler '" + name + "' is not implemented";
}

// ---------------------------------------------------------------- run context

namespace detail {

Tensor Run::denoise(const Tensor& x, double sigma, Tensor* uncond) {
  if (opt.interrupted && opt.interrupted()) throw Interrupted();
  ++calls;
  Tensor d = model(s, x, float(sigma), uncond);
  if (!d.defined() || d.shape() != x.shape())
    throw SamplerError("the denoiser returned " + (d.defined() ? d.str() : std::string("nothing")) + " for x " +
                       x.str());
  return d;
}

Tensor Run::denoise_cfg_pp(const Tensor& x, double sigma, Tensor& uncond) {
  uncond = Tensor();
  Tensor d = denoise(x, sigma, &uncond);
  if (!uncond.defined() || uncond.shape() != x.shape())
    throw SamplerError("a cfg_pp sampler needs the unconditional prediction; the denoiser did not provide it");
  return d;
}

void Run::callback(int i, const Tensor& x, const Tensor& denoised, double sigma) {
  if (opt.on_step) opt.on_step(StepInfo{i, total, x, denoised, float(sigma)});
  if (s.pending() > 0) s.submit();
}

Tensor Run::noise(const Tensor& like) {
  if (!step_noise) step_noise.emplace(opt.seed, opt.noise_rule, opt.cuda_device);
  return step_noise->next(s, like.shape(), like.dtype());
}

Tensor Run::brownian_noise(const Tensor& like, const std::vector<float>& sigmas, double sigma, double sigma_next) {
  if (!brownian) {
    double smin = INFINITY, smax = -INFINITY;
    for (float v : sigmas) {
      if (v > 0) smin = std::min(smin, double(v));
      smax = std::max(smax, double(v));
    }
    brownian = std::make_unique<BrownianTreeNoiseSampler>(opt.seed, smin, smax, like.shape());
  }
  return brownian->noise(s, sigma, sigma_next, like.dtype());
}

Tensor Run::lin(std::initializer_list<std::pair<double, const Tensor*>> terms, double bias) {
  return lin(std::vector<std::pair<double, const Tensor*>>(terms), bias);
}

Tensor Run::lin(const std::vector<std::pair<double, const Tensor*>>& terms, double bias) {
  std::vector<ops::Term> t;
  for (auto& [c, x] : terms)
    if (x) t.push_back({c, x});
  if (t.empty()) throw SamplerError("lin: no terms");
  Tensor acc;
  size_t i = 0;
  while (i < t.size()) {
    std::vector<ops::Term> chunk;
    if (acc.defined()) chunk.push_back({1.0, &acc});
    while (chunk.size() < 6 && i < t.size()) chunk.push_back(t[i++]);
    acc = ops::lincomb(s, chunk, acc.defined() ? 0.0 : bias);
  }
  return acc;
}

double adaptive_error_norm(vk::Stream& s, const Tensor& a, const Tensor& b, const Tensor& c, double atol,
                           double rtol) {
  Tensor out = Tensor::empty(s.ctx(), {1}, DType::F32);
  struct {
    float atol, rtol;
    uint32_t total;
  } pc{float(atol), float(rtol), uint32_t(a.numel())};
  auto& p = ops::pipeline(s, "sampling/adaptive_error", ops::variant_for(s, a.dtype(), false), 4, {256, 1, 1});
  s.dispatch(p, {a.ref(), b.ref(), c.ref()}, {out.ref()}, pc, 1);
  std::vector<float> v = to_host(s, out);
  return std::sqrt(double(v[0])) / std::sqrt(double(a.numel()));
}

}  // namespace detail

// ---------------------------------------------------------------- entry points

Tensor sample(vk::Stream& s, const std::string& name, const Denoiser& model, const Tensor& x,
              const std::vector<float>& sigmas, const SampleOptions& opt) {
  if (!is_sampler(name)) {
    std::string list;
    for (auto& n : sampler_names()) list += (list.empty() ? "" : ", ") + n;
    throw SamplerError("unknown sampler '" + name + "' (ComfyUI's samplers: " + list + ")");
  }
  auto it = table().find(name);
  if (it == table().end()) throw SamplerError(sampler_unsupported_reason(name));
  if (!model) throw SamplerError("sample: no denoiser");
  if (sigmas.size() <= 1) return x;
  for (float v : sigmas)
    if (!std::isfinite(v) || v < 0) throw SamplerError("sample: sigmas must be finite and >= 0");
  detail::Run r(s, model, opt, int(sigmas.size()) - 1);
  Tensor out = it->second(r, x, sigmas);
  return out;
}

int expected_model_calls(const std::string& name, const std::vector<float>& sig) {
  int n = int(sig.size()) - 1;
  if (n <= 0) return 0;
  if (name == "heun" || name == "dpm_2" || name == "dpmpp_2s_ancestral" || name == "dpmpp_2s_ancestral_cfg_pp" ||
      name == "dpm_2_ancestral" || name == "dpmpp_sde" || name == "dpmpp_sde_gpu" || name == "seeds_2" ||
      name == "exp_heun_2_x0" || name == "exp_heun_2_x0_sde") {
    // two calls per step, one on a step to sigma 0
    int calls = 0;
    for (int i = 0; i < n; ++i) calls += sig[i + 1] == 0.0f ? 1 : 2;
    return calls;
  }
  if (name == "seeds_3") {
    int calls = 0;
    for (int i = 0; i < n; ++i) calls += sig[i + 1] == 0.0f ? 1 : 3;
    return calls;
  }
  if (name == "heunpp2") {
    int calls = 0;
    float s_end = sig.back();
    for (int i = 0; i < n; ++i) {
      if (sig[i + 1] == s_end) calls += 1;
      else if (sig[i + 2] == s_end) calls += 2;
      else calls += 3;
    }
    return calls;
  }
  if (name == "dpm_adaptive") return -1;
  // PECE re-evaluates the corrected state on every step after the first.
  if (name == "sa_solver_pece") return 2 * n - 1;
  return n;  // dpm_fast: nfe = n as well
}

bool is_max_denoise(const ModelSamplingDiscrete& ms, float sigma0) {
  double mx = double(ms.sigma_max()), s0 = double(sigma0);
  // math.isclose(max_sigma, sigma, rel_tol=1e-05) or sigma > max_sigma
  return std::abs(mx - s0) <= 1e-5 * std::max(std::abs(mx), std::abs(s0)) || s0 > mx;
}

Tensor ksampler_sample(vk::Stream& s, const std::string& name, const Denoiser& model, const Tensor& latent,
                       const Tensor& noise, const std::vector<float>& sigmas, const ModelSamplingDiscrete& ms,
                       const SampleOptions& opt) {
  if (sigmas.empty()) return latent;
  if (latent.shape() != noise.shape())
    throw SamplerError("ksampler: latent " + latent.str() + " and noise " + noise.str() + " differ");
  float s0 = sigmas[0];
  // EPS.noise_scaling in f32: noise * sqrt(1 + sigma^2) (max denoise) or noise * sigma.
  float scale = is_max_denoise(ms, s0) ? std::sqrt(1.0f + s0 * s0) : s0;
  Tensor x = ops::lincomb(s, {{kSD15LatentScale, &latent}, {double(scale), &noise}});
  Tensor out = sample(s, name, model, x, sigmas, opt);
  return ops::lincomb(s, {{1.0 / kSD15LatentScale, &out}});
}

}  // namespace vkdream::sampling
