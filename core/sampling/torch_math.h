// Small numeric helpers that reproduce how PyTorch/NumPy compute what the schedulers use.
#pragma once
#include <vector>

namespace vkdream::sampling {

// torch.linspace(start, end, n) in float64 and float32 (start/end cast to float first; the first
// half counts up from start, the second half down from end).
std::vector<double> linspace_f64(double start, double end, int n);
std::vector<float> linspace_f32(double start, double end, int n);
// scipy.stats.beta.ppf(p, a, b): the inverse regularized incomplete beta function.
double beta_ppf(double p, double a, double b);
// The regularized incomplete beta function I_x(a, b).
double regularized_incomplete_beta(double x, double a, double b);

}  // namespace vkdream::sampling
