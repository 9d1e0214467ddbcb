#include "reference/attention_ref.h"

#include <algorithm>
#include <cmath>

namespace vkdream::test {

std::vector<double> attention_ref_row(const AttnDims& a, const std::vector<float>& q, const std::vector<float>& k,
                                      const std::vector<float>& v, int64_t b, int64_t i, int64_t h) {
  const int64_t hd = a.H * a.D;
  const int64_t nk = a.causal ? std::min(a.Lk, i + 1) : a.Lk;
  const float* qr = &q[size_t((b * a.Lq + i) * hd + h * a.D)];
  std::vector<double> s(static_cast<size_t>(nk));
  double mx = -INFINITY;
  for (int64_t j = 0; j < nk; ++j) {
    const float* kr = &k[size_t((b * a.Lk + j) * hd + h * a.D)];
    double dot = 0;
    for (int64_t d = 0; d < a.D; ++d) dot += double(qr[d]) * double(kr[d]);
    s[size_t(j)] = dot * a.scale;
    mx = std::max(mx, s[size_t(j)]);
  }
  double sum = 0;
  for (auto& x : s) {
    x = std::exp(x - mx);
    sum += x;
  }
  std::vector<double> out(size_t(a.D), 0.0);
  for (int64_t j = 0; j < nk; ++j) {
    const float* vr = &v[size_t((b * a.Lk + j) * hd + h * a.D)];
    const double p = s[size_t(j)] / sum;
    for (int64_t d = 0; d < a.D; ++d) out[size_t(d)] += p * double(vr[d]);
  }
  return out;
}

std::vector<double> softmax_ref(const std::vector<float>& x, int64_t n) {
  std::vector<double> out(x.size());
  for (size_t r = 0; r * size_t(n) < x.size(); ++r) {
    const float* xr = &x[r * size_t(n)];
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, double(xr[i]));
    for (int64_t i = 0; i < n; ++i) sum += std::exp(double(xr[i]) - mx);
    for (int64_t i = 0; i < n; ++i) out[r * size_t(n) + size_t(i)] = std::exp(double(xr[i]) - mx) / sum;
  }
  return out;
}

}  // namespace vkdream::test
