#include "sampling/model_sampling.h"

#include <cmath>

#include "sampling/torch_math.h"

namespace vkdream::sampling {

ModelSamplingDiscrete::ModelSamplingDiscrete(int timesteps, double linear_start, double linear_end) {
  auto root = linspace_f64(std::sqrt(linear_start), std::sqrt(linear_end), timesteps);
  double cumprod = 1.0;
  for (int i = 0; i < timesteps; ++i) {
    double beta = root[size_t(i)] * root[size_t(i)];
    cumprod *= 1.0 - beta;
    double sigma = std::sqrt((1.0 - cumprod) / cumprod);
    sigmas_.push_back(float(sigma));
    log_sigmas_.push_back(float(std::log(sigma)));
  }
}

int ModelSamplingDiscrete::timestep(float sigma) const {
  float ls = std::log(sigma);
  int best = 0;
  float best_d = INFINITY;
  for (size_t i = 0; i < log_sigmas_.size(); ++i) {
    float d = std::fabs(ls - log_sigmas_[i]);
    if (d < best_d) {
      best_d = d;
      best = int(i);
    }
  }
  return best;
}

float ModelSamplingDiscrete::sigma(float t) const {
  float hi_t = float(log_sigmas_.size() - 1);
  t = t < 0.0f ? 0.0f : (t > hi_t ? hi_t : t);
  int lo = int(std::floor(t)), hi = int(std::ceil(t));
  float w = t - std::trunc(t);
  float ls = (1.0f - w) * log_sigmas_[size_t(lo)] + w * log_sigmas_[size_t(hi)];
  return std::exp(ls);
}

}  // namespace vkdream::sampling
