#include "reference/gemm_ref.h"

#include <cstddef>

namespace vkdream::test {

double matmul_ref_at(const MatmulRefArgs& r, const std::vector<float>& a, const std::vector<float>& b, int64_t idx) {
  int64_t n = idx % r.N, m = (idx / r.N) % r.M, bt = idx / (r.N * r.M);
  const float* ar = a.data() + (bt * r.M + m) * r.K;
  const float* bb = b.data() + (r.b_broadcast ? 0 : bt) * r.K * r.N;
  double acc = 0;
  for (int64_t k = 0; k < r.K; ++k) acc += double(ar[k]) * double(r.trans_b ? bb[n * r.K + k] : bb[k * r.N + n]);
  double v = double(r.alpha) * acc;
  if (r.bias) v += (*r.bias)[size_t(n)];
  if (r.residual) v += (*r.residual)[size_t(idx)];
  return v;
}

double conv2d_ref_at(const Conv2dRefArgs& r, const std::vector<float>& x, const std::vector<float>& w, int64_t idx) {
  const int64_t Ho = r.Ho(), Wo = r.Wo();
  int64_t ox = idx % Wo, oy = (idx / Wo) % Ho, o = (idx / (Wo * Ho)) % r.O, n = idx / (Wo * Ho * r.O);
  double acc = 0;
  for (int64_t c = 0; c < r.C; ++c)
    for (int64_t ky = 0; ky < r.kh; ++ky) {
      int64_t iy = oy * r.stride - r.padding + ky;
      if (iy < 0 || iy >= r.H) continue;
      for (int64_t kx = 0; kx < r.kw; ++kx) {
        int64_t ix = ox * r.stride - r.padding + kx;
        if (ix < 0 || ix >= r.W) continue;
        acc += double(x[size_t(((n * r.C + c) * r.H + iy) * r.W + ix)]) *
               double(w[size_t(((o * r.C + c) * r.kh + ky) * r.kw + kx)]);
      }
    }
  if (r.bias) acc += (*r.bias)[size_t(o)];
  if (r.residual) acc += (*r.residual)[size_t(idx)];
  return acc;
}

}  // namespace vkdream::test
