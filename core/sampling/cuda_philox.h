// PyTorch's CUDA random generator and its float32 randn, reproduced on the CPU, so a seed gives the
// per-step noise ComfyUI draws on an NVIDIA GPU (default_noise_sampler with a CUDA latent:
// torch.Generator("cuda").manual_seed(seed), then one torch.randn(x.shape) per step).
//
// What PyTorch does (aten/src/ATen/native/cuda/DistributionTemplates.h, CUDAGeneratorImpl.cpp):
//  - the generator is (seed, philox offset); manual_seed sets the offset to 0;
//  - randn(n) launches `grid` blocks of 256 threads, grid = min(ceil(n / 256),
//    SMs * (max threads per SM / 256)); thread t runs curand_init(seed, subsequence = t, offset)
//    and then, for k = 0, 1, ...: curand_normal4 gives 4 floats, float ii lands at element
//    t + 256*grid*(4k + ii) (when < n);
//  - afterwards the offset grows by ((n - 1) / (256 * grid * 4) + 1) * 4.
// cuRAND's Philox4x32-10 state: key = seed (low word, high word), 128-bit counter with the
// subsequence in its high 64 bits and offset / 4 in its low 64 bits; curand4 returns the block at
// the counter and steps it by one. curand_normal4 is Box-Muller on (x, y) and (z, w):
// u = x*2^-32 + 2^-33, v = y*2pi*2^-32 + pi*2^-32, r = sqrt(-2 ln u) -> (r sin v, r cos v).
//
// The grid, and so every element at index >= 256 * SMs * (threads per SM / 256), depends on the GPU:
// a draw of up to that many values is the same on every NVIDIA GPU (an SD1.5 latent of 1x4x128x128,
// 65536 values, is below it on any recent card). The default device is an RTX 4090 (128 SMs, 1536
// threads per SM: 768 blocks, 196608 values).
//
// Not bit-exact by design: the GPU computes sin/cos with the fast __sincosf intrinsic (absolute error
// about 2^-21 on the angle's sine) and logf to 1 ulp; we use correctly rounded values. Results agree
// to about 1e-5 absolute (the Box-Muller radius is at most 6.8).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace vkdream::sampling {

using PhiloxCounter = std::array<uint32_t, 4>;  // x, y, z, w (x least significant)
using PhiloxKey = std::array<uint32_t, 2>;

// Philox4x32 with 10 rounds (Salmon et al. 2011; Random123 and cuRAND agree).
PhiloxCounter philox4x32_10(PhiloxCounter ctr, PhiloxKey key);

// curand_normal4's Box-Muller on one Philox block.
std::array<float, 4> curand_box_muller4(const PhiloxCounter& bits);

// The launch-relevant shape of a CUDA device (cudaDeviceProp multiProcessorCount,
// maxThreadsPerMultiProcessor).
struct CudaDeviceShape {
  int sm_count = 128;             // RTX 4090 (AD102, compute capability 8.9)
  int max_threads_per_sm = 1536;  // 8.6/8.9: 1536; 7.0/8.0/9.0 (V100, A100, H100): 2048; 7.5 (Turing): 1024
  uint32_t max_blocks() const;    // sm_count * (max_threads_per_sm / 256)
};

// calc_execution_policy for a float32 normal draw of n values.
struct CudaRandnLaunch {
  uint32_t grid = 0;            // blocks of 256 threads
  uint64_t counter_offset = 0;  // philox offset increment: 4 per curand_normal4 call of a thread
};
CudaRandnLaunch cuda_randn_launch(int64_t n, const CudaDeviceShape& device);

// torch.Generator(device="cuda") as far as randn is concerned.
class CudaGenerator {
 public:
  static constexpr uint32_t kBlockSize = 256;

  explicit CudaGenerator(uint64_t seed, CudaDeviceShape device = {});
  void manual_seed(uint64_t seed);  // offset back to 0
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }  // philox_offset_per_thread
  const CudaDeviceShape& device() const { return device_; }

  // torch.randn(n, dtype=float32, device="cuda", generator=this); advances the offset.
  std::vector<float> randn(int64_t n);
  // Element `index` of the randn(n) the generator would draw now (does not advance): the layout
  // computed directly from the index rather than by walking the threads.
  float randn_element(int64_t n, int64_t index) const;

 private:
  uint64_t seed_ = 0, offset_ = 0;
  CudaDeviceShape device_;
};

}  // namespace vkdream::sampling
