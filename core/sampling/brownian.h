// A Brownian motion W on [t0, t1] that can be queried at any time in any order and always gives
// the same path for a seed: the noise source of ComfyUI's SDE samplers (dpmpp_sde, dpmpp_2m_sde,
// dpmpp_3m_sde, ...), which use torchsde's BrownianTree. torchsde's exact bits are not reproduced
// (it draws from its own generator tree); the statistics are: W(t0) = 0, increments over disjoint
// intervals are independent N(0, |tb - ta|), and W(a, c) = W(a, b) + W(b, c) exactly, because every
// query is a difference of point values of one fixed path.
//
// The path is built by Brownian-bridge bisection: W(t1) ~ N(0, t1 - t0); the midpoint of a dyadic
// interval [a, b] is (W(a) + W(b)) / 2 + sqrt((b - a) / 4) * z, z ~ N(0, 1) drawn from a
// TorchGenerator seeded by hash(seed, depth, index). Bisection stops at width (t1 - t0) / 2^kDepth;
// inside that leaf one more bridge sample (seeded by the query time's bits) gives W(t). So two query
// points closer than (t1 - t0) / 2^32 get independent leaf noise (an increment that small has
// too much variance); sampler queries are many orders of magnitude wider.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::sampling {

class BrownianTree {
 public:
  static constexpr int kDepth = 32;
  // `n` values per point (the latent's element count).
  BrownianTree(uint64_t seed, double t0, double t1, int64_t n);
  // W(t) (t clamped to [t0, t1]).
  std::vector<double> point(double t) const;
  // W(tb) - W(ta).
  std::vector<double> increment(double ta, double tb) const;
  double t0() const { return t0_; }
  double t1() const { return t1_; }

 private:
  std::vector<double> normal(uint64_t tag_a, uint64_t tag_b) const;
  uint64_t seed_;
  double t0_, t1_;
  int64_t n_;
  std::vector<double> w1_;  // W(t1)
};

// comfy BrownianTreeNoiseSampler(x, sigma_min, sigma_max, seed): noise(sigma, sigma_next) =
// (W(sigma_next) - W(sigma)) / sqrt(|sigma_next - sigma|), a standard normal tensor.
class BrownianTreeNoiseSampler {
 public:
  BrownianTreeNoiseSampler(uint64_t seed, double sigma_min, double sigma_max, const Shape& shape);
  std::vector<float> noise_host(double sigma, double sigma_next) const;
  Tensor noise(vk::Stream& s, double sigma, double sigma_next, DType dtype = DType::F32) const;

 private:
  BrownianTree tree_;
  Shape shape_;
};

}  // namespace vkdream::sampling
