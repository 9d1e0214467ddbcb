#include "support/compare.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "tensor/tensor.h"

namespace vkdream::test {

namespace {
::testing::AssertionResult check(const std::vector<float>& got, const std::vector<int64_t>* idx,
                                 const std::vector<double>& want, double tolerance, const std::string& params) {
  size_t n = want.size();
  if (!idx && got.size() != n)
    return ::testing::AssertionFailure() << params << ": got " << got.size() << " values, want " << n;
  double err = 0, ref = 0, max_abs = 0;
  int64_t worst = -1;
  for (size_t k = 0; k < n; ++k) {
    int64_t i = idx ? (*idx)[k] : int64_t(k);
    double g = got.at(size_t(i)), w = want[k];
    if (std::isfinite(w) && !std::isfinite(g))
      return ::testing::AssertionFailure() << params << ": non-finite value " << g << " at index " << i
                                           << " (want " << w << ")";
    if (!std::isfinite(w)) {
      if (std::isnan(w) != std::isnan(g) || (std::isinf(w) && g != w))
        return ::testing::AssertionFailure() << params << ": at index " << i << " got " << g << ", want " << w;
      continue;
    }
    double d = g - w;
    err += d * d;
    ref += w * w;
    if (std::fabs(d) > max_abs) {
      max_abs = std::fabs(d);
      worst = i;
    }
  }
  double nmse = err / std::max(ref, 1e-30);
  if (nmse <= tolerance) return ::testing::AssertionSuccess();
  std::ostringstream os;
  os << params << ": normalized MSE " << nmse << " > tolerance " << tolerance << " (max |diff| " << max_abs
     << " at index " << worst << ")";
  return ::testing::AssertionFailure() << os.str();
}
}  // namespace

::testing::AssertionResult close_nmse(const std::vector<float>& got, const std::vector<double>& want,
                                      double tolerance, const std::string& params) {
  return check(got, nullptr, want, tolerance, params);
}

::testing::AssertionResult close_nmse_at(const std::vector<float>& got, const std::vector<int64_t>& idx,
                                         const std::vector<double>& want, double tolerance,
                                         const std::string& params) {
  return check(got, &idx, want, tolerance, params);
}

std::vector<float> random_normal(size_t n, uint32_t seed, float stddev, bool round_f16) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (auto& x : v) {
    x = dist(rng);
    if (round_f16) x = half_to_float(float_to_half(x));
  }
  return v;
}

std::vector<float> random_uniform(size_t n, uint32_t seed, float lo, float hi, bool round_f16) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) {
    x = dist(rng);
    if (round_f16) x = half_to_float(float_to_half(x));
  }
  return v;
}

std::vector<int64_t> sample_indices(int64_t n, int64_t count, uint32_t seed) {
  std::vector<int64_t> out;
  if (n <= count) {
    out.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) out[size_t(i)] = i;
    return out;
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> dist(0, n - 1);
  while (int64_t(out.size()) < count) out.push_back(dist(rng));
  // Always include both ends, where edge handling lives.
  out.push_back(0);
  out.push_back(n - 1);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double default_tolerance(const char* precision_name) {
  if (std::strcmp(precision_name, "f32") == 0) return 1e-10;
  if (std::strcmp(precision_name, "f16") == 0) return 2e-6;
  return 2e-5;  // f16 arithmetic
}

}  // namespace vkdream::test
