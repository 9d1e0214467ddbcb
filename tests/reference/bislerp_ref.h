// CPU reference for ComfyUI's comfy.utils.bislerp(samples, width, height), written from its Python
// definition: generate_bilinear_data (PyTorch's f32 bilinear interpolation of arange(L) and of arange(L) + 1
// with the last entry decremented, align_corners=False, truncated to int64; ratio = coords - floor(coords)),
// a gather along the width and slerp(pass_1, pass_2, ratios) over each pixel's channel vector, then the
// same along the height. The slerp runs in double; the thresholds are ComfyUI's 1 - 1e-5 and 1e-5 - 1 as f32.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace vkdream::test {

namespace bislerp_ref_detail {

// torch.nn.functional.interpolate(row[None, None, None, :], size=(1, out), mode="bilinear")[out_index] in f32.
inline float torch_linear(const std::vector<float>& row, int64_t out, int64_t i) {
  const int64_t in = int64_t(row.size());
  if (in == out) return row[size_t(i)];
  const float scale = float(in) / float(out);
  float src = scale * (float(i) + 0.5f) - 0.5f;
  if (src < 0.0f) src = 0.0f;
  const int64_t i0 = std::min<int64_t>(int64_t(std::floor(src)), in - 1);
  const int64_t i1 = i0 < in - 1 ? i0 + 1 : i0;
  const float l1 = std::clamp(src - float(i0), 0.0f, 1.0f);
  const float l0 = 1.0f - l1;
  const float t0 = row[size_t(i0)] * l0, t1 = row[size_t(i1)] * l1;
  return t0 + t1;
}

struct Axis {
  std::vector<int64_t> c1, c2;
  std::vector<double> ratio;
};

inline Axis bilinear_data(int64_t length_old, int64_t length_new) {
  std::vector<float> a(static_cast<size_t>(length_old)), b(static_cast<size_t>(length_old));
  for (int64_t i = 0; i < length_old; ++i) {
    a[size_t(i)] = float(i);
    b[size_t(i)] = float(i + 1);
  }
  b.back() -= 1.0f;
  Axis ax;
  for (int64_t i = 0; i < length_new; ++i) {
    float v1 = torch_linear(a, length_new, i), v2 = torch_linear(b, length_new, i);
    ax.ratio.push_back(double(v1 - std::floor(v1)));
    ax.c1.push_back(int64_t(v1));
    ax.c2.push_back(int64_t(v2));
  }
  return ax;
}

// slerp of two channel vectors (ComfyUI's slerp on one row of the flattened NxC batch).
inline std::vector<double> slerp(const std::vector<double>& b1, const std::vector<double>& b2, double r) {
  const size_t c = b1.size();
  double n1 = 0, n2 = 0;
  for (size_t k = 0; k < c; ++k) {
    n1 += b1[k] * b1[k];
    n2 += b2[k] * b2[k];
  }
  n1 = std::sqrt(n1);
  n2 = std::sqrt(n2);
  std::vector<double> u1(c), u2(c);
  double dot = 0;
  for (size_t k = 0; k < c; ++k) {
    u1[k] = n1 == 0 ? 0.0 : b1[k] / n1;
    u2[k] = n2 == 0 ? 0.0 : b2[k] / n2;
    dot += u1[k] * u2[k];
  }
  std::vector<double> res(c);
  if (dot > double(float(1 - 1e-5))) return b1;
  if (dot < double(float(1e-5 - 1))) {
    for (size_t k = 0; k < c; ++k) res[k] = b1[k] * (1.0 - r) + b2[k] * r;
    return res;
  }
  const double omega = std::acos(dot), so = std::sin(omega);
  const double w1 = std::sin((1.0 - r) * omega) / so, w2 = std::sin(r * omega) / so;
  const double mag = n1 * (1.0 - r) + n2 * r;
  for (size_t k = 0; k < c; ++k) res[k] = (w1 * u1[k] + w2 * u2[k]) * mag;
  return res;
}

}  // namespace bislerp_ref_detail

// x [n, c, h, w] -> [n, c, height, width].
inline std::vector<double> ref_bislerp(const std::vector<double>& x, int64_t n, int64_t c, int64_t h, int64_t w,
                                       int64_t height, int64_t width) {
  using namespace bislerp_ref_detail;
  std::vector<double> b1(static_cast<size_t>(c)), b2(static_cast<size_t>(c));
  // Along the width: [n, c, h, w] -> [n, c, h, width].
  Axis ax = bilinear_data(w, width);
  std::vector<double> mid(size_t(n * c * h * width));
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t i = 0; i < width; ++i) {
        for (int64_t k = 0; k < c; ++k) {
          b1[size_t(k)] = x[size_t(((b * c + k) * h + y) * w + ax.c1[size_t(i)])];
          b2[size_t(k)] = x[size_t(((b * c + k) * h + y) * w + ax.c2[size_t(i)])];
        }
        auto r = slerp(b1, b2, ax.ratio[size_t(i)]);
        for (int64_t k = 0; k < c; ++k) mid[size_t(((b * c + k) * h + y) * width + i)] = r[size_t(k)];
      }
  // Along the height: [n, c, h, width] -> [n, c, height, width].
  Axis ay = bilinear_data(h, height);
  std::vector<double> out(size_t(n * c * height * width));
  for (int64_t b = 0; b < n; ++b)
    for (int64_t j = 0; j < height; ++j)
      for (int64_t xx = 0; xx < width; ++xx) {
        for (int64_t k = 0; k < c; ++k) {
          b1[size_t(k)] = mid[size_t(((b * c + k) * h + ay.c1[size_t(j)]) * width + xx)];
          b2[size_t(k)] = mid[size_t(((b * c + k) * h + ay.c2[size_t(j)]) * width + xx)];
        }
        auto r = slerp(b1, b2, ay.ratio[size_t(j)]);
        for (int64_t k = 0; k < c; ++k) out[size_t(((b * c + k) * height + j) * width + xx)] = r[size_t(k)];
      }
  return out;
}

}  // namespace vkdream::test
