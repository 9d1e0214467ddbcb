#include "sampling/schedulers.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sampling/torch_math.h"

namespace vkdream::sampling {
namespace {

std::vector<float> simple(const ModelSamplingDiscrete& ms, int steps) {
  const auto& s = ms.sigmas();
  double ss = double(s.size()) / steps;
  std::vector<float> out;
  for (int x = 0; x < steps; ++x) out.push_back(s[s.size() - 1 - size_t(int64_t(x * ss))]);
  out.push_back(0.0f);
  return out;
}

std::vector<float> ddim_uniform(const ModelSamplingDiscrete& ms, int steps) {
  const auto& s = ms.sigmas();
  std::vector<float> sigs;
  if (std::fabs(double(s[1])) <= 1e-5) steps += 1;
  else sigs.push_back(0.0f);
  size_t ss = std::max<size_t>(s.size() / size_t(steps), 1);
  for (size_t x = 1; x < s.size(); x += ss) sigs.push_back(s[x]);
  std::reverse(sigs.begin(), sigs.end());
  return sigs;
}

std::vector<float> normal(const ModelSamplingDiscrete& ms, int steps, bool sgm) {
  float start = float(ms.timestep(ms.sigma_max()));
  float end = float(ms.timestep(ms.sigma_min()));
  bool append_zero = true;
  std::vector<float> ts;
  if (sgm) {
    ts = linspace_f32(start, end, steps + 1);
    ts.pop_back();
  } else {
    if (std::fabs(double(ms.sigma(end))) <= 1e-5) {
      steps += 1;
      append_zero = false;
    }
    ts = linspace_f32(start, end, steps);
  }
  std::vector<float> out;
  for (float t : ts) out.push_back(ms.sigma(t));
  if (append_zero) out.push_back(0.0f);
  return out;
}

std::vector<float> karras(int n, double sigma_min, double sigma_max, double rho = 7.0) {
  auto ramp = linspace_f32(0.0, 1.0, n);
  double min_inv = std::pow(sigma_min, 1.0 / rho), max_inv = std::pow(sigma_max, 1.0 / rho);
  float diff = float(min_inv - max_inv), base = float(max_inv);
  std::vector<float> out;
  for (float r : ramp) out.push_back(std::pow(base + r * diff, float(rho)));
  out.push_back(0.0f);
  return out;
}

std::vector<float> exponential(int n, double sigma_min, double sigma_max) {
  std::vector<float> out;
  for (float v : linspace_f32(std::log(sigma_max), std::log(sigma_min), n)) out.push_back(std::exp(v));
  out.push_back(0.0f);
  return out;
}

std::vector<float> beta(const ModelSamplingDiscrete& ms, int steps, double alpha = 0.6, double b = 0.6) {
  const auto& s = ms.sigmas();
  double total = double(s.size() - 1);
  std::vector<float> out;
  double last = -1;
  for (int i = 0; i < steps; ++i) {
    double p = 1.0 - double(i) * (1.0 / steps);
    double t = std::nearbyint(beta_ppf(p, alpha, b) * total);  // numpy.rint: half to even
    if (t != last) out.push_back(s[size_t(t)]);
    last = t;
  }
  out.push_back(0.0f);
  return out;
}

std::vector<float> linear_quadratic(const ModelSamplingDiscrete& ms, int steps, double threshold = 0.025) {
  std::vector<double> sched;
  if (steps == 1) {
    sched = {1.0, 0.0};
  } else {
    int linear_steps = steps / 2;
    for (int i = 0; i < linear_steps; ++i) sched.push_back(i * threshold / linear_steps);
    double diff = linear_steps - threshold * steps;
    int quadratic_steps = steps - linear_steps;
    double qcoef = diff / (linear_steps * double(quadratic_steps) * quadratic_steps);
    double lcoef = threshold / linear_steps - 2 * diff / (double(quadratic_steps) * quadratic_steps);
    double c = qcoef * (double(linear_steps) * linear_steps);
    for (int i = linear_steps; i < steps; ++i) sched.push_back(qcoef * (double(i) * i) + lcoef * i + c);
    sched.push_back(1.0);
    for (auto& x : sched) x = 1.0 - x;
  }
  std::vector<float> out;
  for (double x : sched) out.push_back(float(x) * ms.sigma_max());
  return out;
}

std::vector<float> kl_optimal(int n, double sigma_min, double sigma_max) {
  std::vector<float> out(size_t(n + 1), 0.0f);
  float amin = float(std::atan(sigma_min)), amax = float(std::atan(sigma_max));
  for (int i = 0; i < n; ++i) {
    float idx = float(i) / float(n - 1);  // n == 1: 0/0 = NaN, as in ComfyUI
    out[size_t(i)] = std::tan(idx * amin + (1.0f - idx) * amax);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& scheduler_names() {
  static const std::vector<std::string> names = {"simple", "sgm_uniform", "karras",           "exponential", "ddim_uniform",
                                                 "beta",   "normal",      "linear_quadratic", "kl_optimal"};
  return names;
}

bool is_scheduler(const std::string& name) {
  const auto& n = scheduler_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

std::vector<float> calculate_sigmas(const ModelSamplingDiscrete& ms, const std::string& name, int steps) {
  if (steps < 1) throw std::invalid_argument("steps must be at least 1");
  double smin = ms.sigma_min(), smax = ms.sigma_max();
  if (name == "simple") return simple(ms, steps);
  if (name == "sgm_uniform") return normal(ms, steps, true);
  if (name == "karras") return karras(steps, smin, smax);
  if (name == "exponential") return exponential(steps, smin, smax);
  if (name == "ddim_uniform") return ddim_uniform(ms, steps);
  if (name == "beta") return beta(ms, steps);
  if (name == "normal") return normal(ms, steps, false);
  if (name == "linear_quadratic") return linear_quadratic(ms, steps);
  if (name == "kl_optimal") return kl_optimal(steps, smin, smax);
  throw std::invalid_argument("unknown scheduler '" + name + "'");
}

bool sampler_discards_penultimate_sigma(const std::string& s) {
  return s == "dpm_2" || s == "dpm_2_ancestral" || s == "uni_pc" || s == "uni_pc_bh2";
}

std::vector<float> ksampler_sigmas(const ModelSamplingDiscrete& ms, const std::string& scheduler,
                                   const std::string& sampler, int steps, double denoise) {
  auto compute = [&](int n) {
    bool discard = sampler_discards_penultimate_sigma(sampler);
    auto s = calculate_sigmas(ms, scheduler, discard ? n + 1 : n);
    if (discard && s.size() >= 2) s.erase(s.end() - 2);
    return s;
  };
  if (denoise > 0.9999) return compute(steps);
  if (denoise <= 0.0) return {};
  int new_steps = int(double(steps) / denoise);
  auto s = compute(new_steps);
  if (s.size() > size_t(steps + 1)) s.erase(s.begin(), s.end() - (steps + 1));
  return s;
}

}  // namespace vkdream::sampling
