#include "sampling/cuda_philox.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace vkdream::sampling {
namespace {

constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;  // key schedule (golden ratio, sqrt 3)
constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;  // round multipliers

PhiloxCounter philox_round(const PhiloxCounter& c, const PhiloxKey& k) {
  uint64_t p0 = uint64_t(kPhiloxM0) * c[0], p1 = uint64_t(kPhiloxM1) * c[2];
  uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0), hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
  return {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}

// curand_init(seed, subsequence, offset) with offset a multiple of 4 (PyTorch keeps it so), then
// `calls` curand4 calls: the counter of the block the next curand4 returns.
PhiloxCounter philox_counter(uint64_t subsequence, uint64_t offset, uint64_t calls) {
  PhiloxCounter c{0, 0, 0, 0};
  // skipahead_sequence: Philox_State_Incr_hi (high 64 bits, carry from z into w)
  c[2] = uint32_t(subsequence);
  c[3] = uint32_t(subsequence >> 32);
  // skipahead(offset) + `calls` increments: Philox_State_Incr on the low 64 bits. cuRAND carries into
  // z only when y wraps; the offsets of a generator never come near 2^66, so no carry happens here.
  uint64_t lo = offset / 4 + calls;
  c[0] = uint32_t(lo);
  c[1] = uint32_t(lo >> 32);
  return c;
}

// _curand_box_muller(x, y) as compiled for the device: u and v in float (nvcc contracts v's
// multiply-add into an FMA), logf / sqrtf, then __sincosf(v) -> (sin, cos), each times the radius.
void box_muller(uint32_t x, uint32_t y, float& first, float& second) {
  const float kInv = 2.3283064e-10f;         // CURAND_2POW32_INV, exactly 2^-32 as a float
  const float kInv2Pi = kInv * 6.2831855f;   // CURAND_2POW32_INV_2PI
  float u = float(x) * kInv + kInv / 2.0f;   // the product is exact: no contraction question
  float v = std::fma(float(y), kInv2Pi, kInv2Pi / 2.0f);
  float s = std::sqrt(-2.0f * float(std::log(double(u))));
  first = float(std::sin(double(v))) * s;
  second = float(std::cos(double(v))) * s;
}

}  // namespace

PhiloxCounter philox4x32_10(PhiloxCounter ctr, PhiloxKey key) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kPhiloxW0;
      key[1] += kPhiloxW1;
    }
    ctr = philox_round(ctr, key);
  }
  return ctr;
}

std::array<float, 4> curand_box_muller4(const PhiloxCounter& bits) {
  std::array<float, 4> out{};
  box_muller(bits[0], bits[1], out[0], out[1]);
  box_muller(bits[2], bits[3], out[2], out[3]);
  return out;
}

uint32_t CudaDeviceShape::max_blocks() const {
  if (sm_count < 1 || max_threads_per_sm < int(CudaGenerator::kBlockSize))
    throw std::invalid_argument("CUDA device shape: need at least 1 SM and 256 threads per SM (got " +
                                std::to_string(sm_count) + " SMs, " + std::to_string(max_threads_per_sm) +
                                " threads per SM)");
  return uint32_t(sm_count) * (uint32_t(max_threads_per_sm) / CudaGenerator::kBlockSize);
}

CudaRandnLaunch cuda_randn_launch(int64_t n, const CudaDeviceShape& device) {
  if (n <= 0) return {};
  // Tensors past 32-bit indexing are split by TensorIterator into several launches; not reproduced.
  if (n > int64_t(std::numeric_limits<int32_t>::max()))
    throw std::invalid_argument("cuda randn: more than 2^31-1 values is not supported");
  const uint64_t numel = uint64_t(n), block = CudaGenerator::kBlockSize, unroll = 4;
  CudaRandnLaunch l;
  l.grid = uint32_t(std::min<uint64_t>(device.max_blocks(), (numel + block - 1) / block));
  l.counter_offset = ((numel - 1) / (block * l.grid * unroll) + 1) * 4;
  return l;
}

CudaGenerator::CudaGenerator(uint64_t seed, CudaDeviceShape device) : device_(device) {
  device_.max_blocks();  // validates
  manual_seed(seed);
}

void CudaGenerator::manual_seed(uint64_t seed) {
  seed_ = seed;
  offset_ = 0;
}

std::vector<float> CudaGenerator::randn(int64_t n) {
  std::vector<float> out(size_t(std::max<int64_t>(n, 0)));
  if (n <= 0) return out;
  const CudaRandnLaunch l = cuda_randn_launch(n, device_);
  const PhiloxKey key{uint32_t(seed_), uint32_t(seed_ >> 32)};
  const uint64_t stride = uint64_t(kBlockSize) * l.grid;  // threads in the grid
  const uint64_t calls = l.counter_offset / 4;             // curand_normal4 calls per thread
  const uint64_t threads = std::min<uint64_t>(stride, uint64_t(n));  // the others write nothing
  for (uint64_t t = 0; t < threads; ++t) {
    for (uint64_t k = 0; k < calls; ++k) {
      const uint64_t base = t + stride * 4 * k;
      if (base >= uint64_t(n)) break;
      auto r = curand_box_muller4(philox4x32_10(philox_counter(t, offset_, k), key));
      for (uint64_t ii = 0; ii < 4; ++ii) {
        const uint64_t li = base + stride * ii;
        if (li < uint64_t(n)) out[li] = r[ii];
      }
    }
  }
  offset_ += l.counter_offset;  // philox_cuda_state: already a multiple of 4
  return out;
}

float CudaGenerator::randn_element(int64_t n, int64_t index) const {
  if (index < 0 || index >= n) throw std::out_of_range("randn_element: index outside the draw");
  const CudaRandnLaunch l = cuda_randn_launch(n, device_);
  const uint64_t stride = uint64_t(kBlockSize) * l.grid;
  const uint64_t t = uint64_t(index) % stride, q = uint64_t(index) / stride;  // q = 4k + ii
  const PhiloxKey key{uint32_t(seed_), uint32_t(seed_ >> 32)};
  return curand_box_muller4(philox4x32_10(philox_counter(t, offset_, q / 4), key))[q % 4];
}

}  // namespace vkdream::sampling
