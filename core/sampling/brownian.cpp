#include "sampling/brownian.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "sampling/torch_rng.h"

namespace vkdream::sampling {

namespace {
uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

BrownianTree::BrownianTree(uint64_t seed, double t0, double t1, int64_t n)
    : seed_(seed), t0_(std::min(t0, t1)), t1_(std::max(t0, t1)), n_(n) {
  if (n <= 0) throw std::invalid_argument("BrownianTree: empty shape");
  if (!(t1_ > t0_)) t1_ = t0_ + 1e-12;  // degenerate interval: every increment is ~0
  w1_ = normal(0, 0);
  double sd = std::sqrt(t1_ - t0_);
  for (auto& v : w1_) v *= sd;
}

std::vector<double> BrownianTree::normal(uint64_t tag_a, uint64_t tag_b) const {
  uint64_t h = splitmix64(seed_ ^ splitmix64(tag_a * 0x100000001b3ull + 0x51ed27ull) ^ splitmix64(~tag_b));
  TorchGenerator g(h);
  std::vector<float> z = g.randn(n_);
  return std::vector<double>(z.begin(), z.end());
}

std::vector<double> BrownianTree::point(double t) const {
  t = std::clamp(t, t0_, t1_);
  double a = t0_, b = t1_;
  std::vector<double> wa(static_cast<size_t>(n_), 0.0), wb = w1_;
  if (t == a) return wa;
  if (t == b) return wb;
  uint64_t index = 0;
  for (int depth = 1; depth <= kDepth; ++depth) {
    double m = 0.5 * (a + b);
    index = index * 2;  // child index at this depth: left = 2k, right = 2k + 1 (of the midpoint node)
    std::vector<double> z = normal(uint64_t(depth), index);
    double sd = std::sqrt((b - a) / 4.0);
    std::vector<double> wm(static_cast<size_t>(n_));
    for (int64_t i = 0; i < n_; ++i) wm[i] = 0.5 * (wa[i] + wb[i]) + sd * z[i];
    if (t == m) return wm;
    if (t < m) {
      b = m;
      wb.swap(wm);
    } else {
      a = m;
      wa.swap(wm);
      index += 1;
    }
  }
  // Inside a leaf: a bridge sample conditioned on the leaf's end points.
  uint64_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  std::vector<double> z = normal(uint64_t(kDepth + 1), bits);
  double f = (t - a) / (b - a);
  double sd = std::sqrt(std::max(0.0, (t - a) * (b - t) / (b - a)));
  std::vector<double> w(static_cast<size_t>(n_));
  for (int64_t i = 0; i < n_; ++i) w[i] = wa[i] + f * (wb[i] - wa[i]) + sd * z[i];
  return w;
}

std::vector<double> BrownianTree::increment(double ta, double tb) const {
  std::vector<double> a = point(ta), b = point(tb);
  for (size_t i = 0; i < a.size(); ++i) b[i] -= a[i];
  return b;
}

BrownianTreeNoiseSampler::BrownianTreeNoiseSampler(uint64_t seed, double sigma_min, double sigma_max,
                                                   const Shape& shape)
    : tree_(seed, sigma_min, sigma_max, shape_numel(shape)), shape_(shape) {}

std::vector<float> BrownianTreeNoiseSampler::noise_host(double sigma, double sigma_next) const {
  std::vector<double> w = tree_.increment(sigma, sigma_next);
  double scale = 1.0 / std::sqrt(std::abs(sigma_next - sigma));
  std::vector<float> out(w.size());
  for (size_t i = 0; i < w.size(); ++i) out[i] = float(w[i] * scale);
  return out;
}

Tensor BrownianTreeNoiseSampler::noise(vk::Stream& s, double sigma, double sigma_next, DType dtype) const {
  Tensor t = Tensor::empty(s.ctx(), shape_, dtype);
  upload(s, t, noise_host(sigma, sigma_next));
  return t;
}

}  // namespace vkdream::sampling
