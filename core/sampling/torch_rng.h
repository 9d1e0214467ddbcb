// PyTorch's CPU random generator and its float32 randn, reproduced bit for bit so a seed gives
// ComfyUI's noise: mt19937 seeded with the seed's low 32 bits; randn of 16 or more values draws
// uniforms then applies a 16-wide Box-Muller (the last 16 recomputed when the count is not a
// multiple of 16); fewer than 16 values use the scalar double-precision path with its cached
// second sample.
#pragma once
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace vkdream::sampling {

class TorchGenerator {
 public:
  explicit TorchGenerator(uint64_t seed) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint32_t random() { return uint32_t(engine_()); }
  uint64_t random64();
  // torch.randn(n, dtype=float32, generator=this) on the CPU.
  std::vector<float> randn(int64_t n);

 private:
  double normal_double();  // at::normal_distribution<double>(0, 1)
  std::mt19937 engine_;
  std::optional<double> next_double_normal_;
};

// comfy.sample.prepare_noise(latent, seed, batch_index): `shape` is NCHW (any rank, dim 0 the batch).
// With batch indices, one draw of a single sample per index 0..max, each sample taking its index's.
std::vector<float> prepare_noise(uint64_t seed, const std::vector<int64_t>& shape,
                                 const std::vector<int64_t>* batch_index = nullptr);

}  // namespace vkdream::sampling
