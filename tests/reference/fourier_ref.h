// Double-precision CPU references for FreeU (comfy_extras/nodes_freelunch.py), written step by step as
// ComfyUI does them: Fourier_filter = fftn (naive DFT), fftshift (a roll), the mask by Python slices,
// ifftshift, ifftn, real part; and the backbone scalings of FreeU and FreeU_V2. Header-only so the op
// tests and the model tests can both use it.
#pragma once
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <vector>

namespace vkdream::test {

using cplx = std::complex<double>;

// Python's a[lo:hi] on a length-n axis, as the index range [first, last).
inline std::pair<int64_t, int64_t> py_slice(int64_t lo, int64_t hi, int64_t n) {
  auto norm = [n](int64_t i) { return std::min(std::max(i < 0 ? i + n : i, int64_t(0)), n); };
  return {norm(lo), std::max(norm(lo), norm(hi))};
}

// 1-D DFT of `n` values spaced `stride` apart, sign -1 (forward) or +1 (inverse, unnormalised).
inline void dft_inplace(cplx* v, int64_t n, int64_t stride, int sign) {
  std::vector<cplx> in(static_cast<size_t>(n)), out(static_cast<size_t>(n)), twiddle(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double a = sign * 2.0 * M_PI * double(i) / double(n);  // exp(sign 2 pi i m / n), m = k j mod n
    twiddle[size_t(i)] = cplx(std::cos(a), std::sin(a));
    in[size_t(i)] = v[i * stride];
  }
  for (int64_t k = 0; k < n; ++k) {
    cplx acc = 0;
    for (int64_t j = 0; j < n; ++j) acc += in[size_t(j)] * twiddle[size_t((k * j) % n)];
    out[size_t(k)] = acc;
  }
  for (int64_t i = 0; i < n; ++i) v[i * stride] = out[size_t(i)];
}

// 2-D DFT of an h x w plane (rows then columns: the 2-D DFT is separable).
inline void dft2(std::vector<cplx>& p, int64_t h, int64_t w, int sign) {
  for (int64_t r = 0; r < h; ++r) dft_inplace(p.data() + r * w, w, 1, sign);
  for (int64_t c = 0; c < w; ++c) dft_inplace(p.data() + c, h, w, sign);
}

// torch.fft.fftshift over both axes of an h x w plane: roll by (h/2, w/2); inverse: roll back.
inline std::vector<cplx> roll2(const std::vector<cplx>& p, int64_t h, int64_t w, int64_t sh, int64_t sw) {
  std::vector<cplx> out(p.size());
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j)
      out[size_t(((i + sh) % h + h) % h * w + ((j + sw) % w + w) % w)] = p[size_t(i * w + j)];
  return out;
}

// ComfyUI's Fourier_filter on one h x w plane.
inline std::vector<double> fourier_filter_plane_ref(const float* x, int64_t h, int64_t w, int threshold,
                                                    double scale) {
  std::vector<cplx> p(size_t(h * w));
  for (int64_t i = 0; i < h * w; ++i) p[size_t(i)] = double(x[i]);
  dft2(p, h, w, -1);
  p = roll2(p, h, w, h / 2, w / 2);  // fftshift
  auto rows = py_slice(h / 2 - threshold, h / 2 + threshold, h);
  auto cols = py_slice(w / 2 - threshold, w / 2 + threshold, w);
  for (int64_t i = rows.first; i < rows.second; ++i)
    for (int64_t j = cols.first; j < cols.second; ++j) p[size_t(i * w + j)] *= scale;
  p = roll2(p, h, w, -(h / 2), -(w / 2));  // ifftshift
  dft2(p, h, w, +1);
  std::vector<double> out(size_t(h * w));
  for (int64_t i = 0; i < h * w; ++i) out[size_t(i)] = p[size_t(i)].real() / double(h * w);
  return out;
}

// Fourier_filter over every plane of x [planes, h, w].
inline std::vector<double> fourier_filter_ref(const std::vector<float>& x, int64_t planes, int64_t h, int64_t w,
                                              int threshold, double scale) {
  std::vector<double> out;
  out.reserve(x.size());
  for (int64_t p = 0; p < planes; ++p) {
    auto y = fourier_filter_plane_ref(x.data() + p * h * w, h, w, threshold, scale);
    out.insert(out.end(), y.begin(), y.end());
  }
  return out;
}

// FreeU's backbone scaling of h [B, C, HW]: v1 h[:, :C/2] * b; v2 h[:, :C/2] * ((b - 1) * norm + 1) with
// norm the per-sample min-max normalised channel mean (NaN for a flat map: 0 / 0).
inline std::vector<double> freeu_backbone_ref(const std::vector<float>& h, int64_t B, int64_t C, int64_t HW,
                                              int version, double b) {
  std::vector<double> out(h.begin(), h.end());
  std::vector<double> factor(size_t(B * HW), b);
  if (version == 2) {
    for (int64_t n = 0; n < B; ++n) {
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      std::vector<double> mean(static_cast<size_t>(HW));
      for (int64_t p = 0; p < HW; ++p) {
        double s = 0;
        for (int64_t c = 0; c < C; ++c) s += h[size_t((n * C + c) * HW + p)];
        mean[size_t(p)] = s / double(C);
        lo = std::min(lo, mean[size_t(p)]);
        hi = std::max(hi, mean[size_t(p)]);
      }
      for (int64_t p = 0; p < HW; ++p) {
        double norm = hi == lo ? std::numeric_limits<double>::quiet_NaN() : (mean[size_t(p)] - lo) / (hi - lo);
        factor[size_t(n * HW + p)] = (b - 1.0) * norm + 1.0;
      }
    }
  }
  for (int64_t n = 0; n < B; ++n)
    for (int64_t c = 0; c < C / 2; ++c)
      for (int64_t p = 0; p < HW; ++p) out[size_t((n * C + c) * HW + p)] *= factor[size_t(n * HW + p)];
  return out;
}

}  // namespace vkdream::test
