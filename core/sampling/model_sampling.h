// SD1.x's discrete noise schedule as ComfyUI's ModelSamplingDiscrete builds it (eps prediction):
// betas linear in sqrt from 0.00085 to 0.012 over 1000 steps (float64), sigmas stored as float32,
// and the float32 sigma <-> timestep maps.
#pragma once
#include <vector>

namespace vkdream::sampling {

class ModelSamplingDiscrete {
 public:
  explicit ModelSamplingDiscrete(int timesteps = 1000, double linear_start = 0.00085, double linear_end = 0.012);
  const std::vector<float>& sigmas() const { return sigmas_; }
  const std::vector<float>& log_sigmas() const { return log_sigmas_; }
  float sigma_min() const { return sigmas_.front(); }
  float sigma_max() const { return sigmas_.back(); }
  // The nearest table index in log space (argmin, first on ties).
  int timestep(float sigma) const;
  // Log-linear interpolation of the table at a fractional timestep, clamped to [0, N-1].
  float sigma(float timestep) const;

 private:
  std::vector<float> sigmas_, log_sigmas_;
};

}  // namespace vkdream::sampling
