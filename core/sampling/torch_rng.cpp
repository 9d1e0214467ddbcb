#include "sampling/torch_rng.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace vkdream::sampling {
namespace {
constexpr double kPi = 3.14159265358979323846;

float uniform_float(uint32_t r) { return float(r & ((1u << 24) - 1)) * (1.0f / float(1u << 24)); }

// normal_fill_16: Box-Muller on 8 pairs (u1 from the first half, u2 from the second), in float.
void normal_fill_16(float* d) {
  for (int j = 0; j < 8; ++j) {
    float u1 = 1.0f - d[j];
    float u2 = d[j + 8];
    // PyTorch's AVX2 path uses SLEEF's 1-ulp float functions; correctly rounded values (computed
    // in double) agree with them on nearly every element and are within an ulp elsewhere.
    float radius = std::sqrt(-2.0f * float(std::log(double(u1))));
    float theta = float(2.0 * kPi) * u2;
    d[j] = radius * float(std::cos(double(theta)));
    d[j + 8] = radius * float(std::sin(double(theta)));
  }
}
}  // namespace

void TorchGenerator::manual_seed(uint64_t seed) {
  engine_.seed(uint32_t(seed & 0xffffffffu));
  next_double_normal_.reset();
}

uint64_t TorchGenerator::random64() {
  uint32_t hi = random();
  uint32_t lo = random();
  return (uint64_t(hi) << 32) | lo;
}

double TorchGenerator::normal_double() {
  if (next_double_normal_) {
    double v = *next_double_normal_;
    next_double_normal_.reset();
    return v;
  }
  const double scale = 1.0 / double(uint64_t(1) << 53);
  double u1 = double(random64() & ((uint64_t(1) << 53) - 1)) * scale;
  double u2 = double(random64() & ((uint64_t(1) << 53) - 1)) * scale;
  double r = std::sqrt(-2.0 * std::log(1.0 - u2));
  double theta = 2.0 * kPi * u1;
  next_double_normal_ = r * std::sin(theta);
  return r * std::cos(theta);
}

std::vector<float> TorchGenerator::randn(int64_t n) {
  std::vector<float> out(size_t(std::max<int64_t>(n, 0)));
  if (n < 16) {
    for (auto& v : out) v = float(normal_double());
    return out;
  }
  for (auto& v : out) v = uniform_float(random());
  for (int64_t i = 0; i + 16 <= n; i += 16) normal_fill_16(out.data() + i);
  if (n % 16 != 0) {
    float* tail = out.data() + n - 16;
    for (int i = 0; i < 16; ++i) tail[i] = uniform_float(random());
    normal_fill_16(tail);
  }
  return out;
}

std::vector<float> prepare_noise(uint64_t seed, const std::vector<int64_t>& shape,
                                 const std::vector<int64_t>* batch_index) {
  if (shape.empty()) throw std::invalid_argument("prepare_noise: empty shape");
  int64_t numel = 1;
  for (auto d : shape) numel *= d;
  TorchGenerator gen(seed);
  if (!batch_index || batch_index->empty()) return gen.randn(numel);
  int64_t per = shape[0] ? numel / shape[0] : 0;
  if (int64_t(batch_index->size()) != shape[0])
    throw std::invalid_argument("prepare_noise: batch_index has " + std::to_string(batch_index->size()) +
                                " entries for a batch of " + std::to_string(shape[0]));
  int64_t max_index = *std::max_element(batch_index->begin(), batch_index->end());
  if (max_index < 0 || *std::min_element(batch_index->begin(), batch_index->end()) < 0)
    throw std::invalid_argument("prepare_noise: negative batch_index");
  std::set<int64_t> wanted(batch_index->begin(), batch_index->end());
  std::vector<std::vector<float>> draws(size_t(max_index + 1));
  for (int64_t i = 0; i <= max_index; ++i) {
    auto d = gen.randn(per);
    if (wanted.count(i)) draws[size_t(i)] = std::move(d);
  }
  std::vector<float> out;
  out.reserve(size_t(numel));
  for (int64_t idx : *batch_index) out.insert(out.end(), draws[size_t(idx)].begin(), draws[size_t(idx)].end());
  return out;
}

}  // namespace vkdream::sampling
