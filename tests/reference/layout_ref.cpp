#include "reference/layout_ref.h"

#include <algorithm>
#include <cmath>

namespace vkdream::test {

namespace {
std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}
}  // namespace

std::vector<double> ref_concat(const std::vector<std::vector<float>>& parts, const std::vector<Shape>& shapes,
                               int dim) {
  int rank = int(shapes[0].size());
  int d = dim < 0 ? dim + rank : dim;
  int64_t outer = 1, after = 1;
  for (int i = 0; i < d; ++i) outer *= shapes[0][size_t(i)];
  for (int i = d + 1; i < rank; ++i) after *= shapes[0][size_t(i)];
  std::vector<double> out;
  for (int64_t o = 0; o < outer; ++o)
    for (size_t p = 0; p < parts.size(); ++p) {
      int64_t len = shapes[p][size_t(d)] * after;
      for (int64_t j = 0; j < len; ++j) out.push_back(parts[p][size_t(o * len + j)]);
    }
  return out;
}

std::vector<double> ref_permute(const std::vector<float>& x, const Shape& shape, const std::vector<int>& perm) {
  size_t r = shape.size();
  auto st = strides_of(shape);
  Shape os(r);
  for (size_t i = 0; i < r; ++i) os[i] = shape[size_t(perm[i])];
  int64_t n = shape_numel(os);
  std::vector<double> out(static_cast<size_t>(n));
  std::vector<int64_t> idx(r, 0);  // output multi-index, odometer order
  for (int64_t i = 0; i < n; ++i) {
    int64_t src = 0;
    for (size_t k = 0; k < r; ++k) src += idx[k] * st[size_t(perm[k])];
    out[size_t(i)] = x[size_t(src)];
    for (size_t k = r; k-- > 0;) {
      if (++idx[k] < os[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

std::vector<double> ref_slice(const std::vector<float>& x, const Shape& shape, int dim, int64_t begin, int64_t end) {
  int rank = int(shape.size());
  int d = dim < 0 ? dim + rank : dim;
  int64_t outer = 1, after = 1;
  for (int i = 0; i < d; ++i) outer *= shape[size_t(i)];
  for (int i = d + 1; i < rank; ++i) after *= shape[size_t(i)];
  std::vector<double> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = begin * after; j < end * after; ++j) out.push_back(x[size_t(o * shape[size_t(d)] * after + j)]);
  return out;
}

namespace {
// PyTorch's cubic convolution weights (A = -0.75) for the fraction t, in double.
void cubic_weights(double t, double w[4]) {
  const double A = -0.75;
  auto c1 = [&](double v) { return ((A + 2) * v - (A + 3)) * v * v + 1; };
  auto c2 = [&](double v) { return ((A * v - 5 * A) * v + 8 * A) * v - 4 * A; };
  w[0] = c2(t + 1);
  w[1] = c1(t);
  w[2] = c1(1 - t);
  w[3] = c2(2 - t);
}

// Source taps and weights for one output coordinate along one axis.
struct Taps {
  int64_t idx[4];
  double w[4];
  int n;
};

Taps axis_taps(int64_t dst, int64_t in, int64_t out, ops::ResizeMode mode) {
  Taps t{};
  const float scale = float(in) / float(out);  // PyTorch: (float)input_size / output_size
  switch (mode) {
    case ops::ResizeMode::kNearest:
    case ops::ResizeMode::kNearestExact: {
      float off = mode == ops::ResizeMode::kNearestExact ? 0.5f : 0.0f;
      float f = (float(dst) + off) * scale;
      t.idx[0] = std::min<int64_t>(int64_t(std::floor(f)), in - 1);
      t.w[0] = 1;
      t.n = 1;
      break;
    }
    case ops::ResizeMode::kBilinear: {
      float src = scale * (float(dst) + 0.5f) - 0.5f;
      if (src < 0) src = 0;
      int64_t i0 = std::min<int64_t>(int64_t(std::floor(src)), in - 1);
      double l1 = std::clamp(double(src - float(i0)), 0.0, 1.0);
      t.idx[0] = i0;
      t.idx[1] = i0 + (i0 < in - 1 ? 1 : 0);
      t.w[0] = 1 - l1;
      t.w[1] = l1;
      t.n = 2;
      break;
    }
    case ops::ResizeMode::kBicubic: {
      float src = scale * (float(dst) + 0.5f) - 0.5f;
      int64_t i0 = std::min<int64_t>(int64_t(std::floor(src)), in - 1);
      double frac = std::clamp(double(src - float(i0)), 0.0, 1.0);
      cubic_weights(frac, t.w);
      for (int k = 0; k < 4; ++k) t.idx[k] = std::clamp<int64_t>(i0 - 1 + k, 0, in - 1);
      t.n = 4;
      break;
    }
    case ops::ResizeMode::kArea:
      break;  // handled by the caller
  }
  return t;
}
}  // namespace

double ref_resize_at(const std::vector<float>& x, const Shape& shape, int64_t out_h, int64_t out_w,
                     ops::ResizeMode mode, int64_t index) {
  const int64_t H = shape[2], W = shape[3];
  const int64_t ox = index % out_w, oy = (index / out_w) % out_h, plane = index / (out_w * out_h);
  const float* p = x.data() + plane * H * W;
  if (mode == ops::ResizeMode::kArea) {
    int64_t y0 = oy * H / out_h, y1 = ((oy + 1) * H + out_h - 1) / out_h;
    int64_t x0 = ox * W / out_w, x1 = ((ox + 1) * W + out_w - 1) / out_w;
    double sum = 0;
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t xx = x0; xx < x1; ++xx) sum += p[y * W + xx];
    return sum / double((y1 - y0) * (x1 - x0));
  }
  Taps ty = axis_taps(oy, H, out_h, mode), tx = axis_taps(ox, W, out_w, mode);
  double v = 0;
  for (int a = 0; a < ty.n; ++a)
    for (int b = 0; b < tx.n; ++b) v += ty.w[a] * tx.w[b] * p[ty.idx[a] * W + tx.idx[b]];
  return v;
}

std::vector<double> ref_upsample_nearest2x(const std::vector<float>& x, const Shape& shape) {
  const int64_t planes = shape[0] * shape[1], H = shape[2], W = shape[3];
  std::vector<double> out(size_t(planes * 4 * H * W));
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t y = 0; y < 2 * H; ++y)
      for (int64_t xx = 0; xx < 2 * W; ++xx)
        out[size_t((p * 2 * H + y) * 2 * W + xx)] = x[size_t((p * H + y / 2) * W + xx / 2)];
  return out;
}

std::vector<double> ref_embedding(const std::vector<int32_t>& ids, int64_t L, const std::vector<float>& table,
                                  int64_t V, int64_t D, const std::vector<float>* positions) {
  std::vector<double> out(ids.size() * size_t(D));
  for (size_t k = 0; k < ids.size(); ++k) {
    int64_t id = std::clamp<int64_t>(ids[k], 0, V - 1);
    int64_t l = int64_t(k) % L;
    for (int64_t d = 0; d < D; ++d) {
      double v = table[size_t(id * D + d)];
      if (positions) v += (*positions)[size_t(l * D + d)];
      out[k * size_t(D) + size_t(d)] = v;
    }
  }
  return out;
}

std::vector<double> ref_timestep_embedding(const std::vector<float>& t, int dim, float max_period) {
  const int half = dim / 2;
  const float neg_log = float(-std::log(double(max_period)));
  std::vector<double> out(t.size() * size_t(dim), 0.0);
  for (size_t b = 0; b < t.size(); ++b)
    for (int k = 0; k < half; ++k) {
      // torch: exp(-log(max_period) * arange(half, dtype=float32) / half), then t[:, None].float() * freqs
      float freq = std::exp(float(k) * neg_log / float(half));
      float arg = t[b] * freq;
      out[b * size_t(dim) + size_t(k)] = std::cos(double(arg));
      out[b * size_t(dim) + size_t(half + k)] = std::sin(double(arg));
    }
  return out;
}

}  // namespace vkdream::test
