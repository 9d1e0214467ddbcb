#include "reference/norm_ref.h"

#include <cmath>

namespace vkdream::test::ref {

double silu(double x) { return x / (1.0 + std::exp(-x)); }
double gelu(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }
double quick_gelu(double x) { return x / (1.0 + std::exp(-1.702 * x)); }

GroupStats group_norm_stats(const std::vector<float>& x, int64_t N, int64_t C, int64_t HW, int groups, double eps) {
  GroupStats st;
  int64_t L = C / groups * HW;
  st.mean.resize(size_t(N * groups));
  st.rstd.resize(size_t(N * groups));
  for (int64_t g = 0; g < N * groups; ++g) {
    const float* p = x.data() + g * L;
    double s = 0;
    for (int64_t i = 0; i < L; ++i) s += p[i];
    double m = s / double(L), q = 0;
    for (int64_t i = 0; i < L; ++i) q += (p[i] - m) * (p[i] - m);
    st.mean[size_t(g)] = m;
    st.rstd[size_t(g)] = 1.0 / std::sqrt(q / double(L) + eps);
  }
  return st;
}

double group_norm_at(const std::vector<float>& x, const GroupStats& st, const std::vector<float>& gamma,
                     const std::vector<float>& beta, int64_t C, int64_t HW, int groups, bool act, int64_t i) {
  int64_t c = (i / HW) % C;
  int64_t n = i / (HW * C);
  int64_t g = n * groups + c / (C / groups);
  double v = (x[size_t(i)] - st.mean[size_t(g)]) * st.rstd[size_t(g)] * gamma[size_t(c)] + beta[size_t(c)];
  return act ? silu(v) : v;
}

void layer_norm_row(const std::vector<float>& x, const std::vector<float>& gamma, const std::vector<float>& beta,
                    int64_t C, int64_t row, double eps, double* out) {
  const float* p = x.data() + row * C;
  double s = 0;
  for (int64_t i = 0; i < C; ++i) s += p[i];
  double m = s / double(C), q = 0;
  for (int64_t i = 0; i < C; ++i) q += (p[i] - m) * (p[i] - m);
  double r = 1.0 / std::sqrt(q / double(C) + eps);
  for (int64_t i = 0; i < C; ++i) out[i] = (p[i] - m) * r * gamma[size_t(i)] + beta[size_t(i)];
}

double geglu_at(const std::vector<float>& x, int64_t F, int64_t i) {
  int64_t r = i / F, j = i % F;
  return double(x[size_t(r * 2 * F + j)]) * gelu(x[size_t(r * 2 * F + F + j)]);
}

}  // namespace vkdream::test::ref
