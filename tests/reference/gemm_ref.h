// Naive CPU references for matmul/linear and conv2d, accumulating in double. They compute single
// output elements so tests of the big SD1.5 shapes can check a sample of outputs cheaply.
#pragma once
#include <cstdint>
#include <vector>

namespace vkdream::test {

struct MatmulRefArgs {
  int64_t batch = 1, M = 1, K = 1, N = 1;
  bool b_broadcast = false;  // b has batch 1
  bool trans_b = false;      // b is [N, K] per batch instead of [K, N]
  float alpha = 1.0f;
  const std::vector<float>* bias = nullptr;      // [N]
  const std::vector<float>* residual = nullptr;  // [batch, M, N]
};
// out[idx] of alpha * a @ op(b) + bias + residual, idx into the [batch, M, N] output.
double matmul_ref_at(const MatmulRefArgs& r, const std::vector<float>& a, const std::vector<float>& b, int64_t idx);

struct Conv2dRefArgs {
  int64_t N = 1, C = 1, H = 1, W = 1, O = 1, kh = 1, kw = 1;
  int stride = 1, padding = 0;
  const std::vector<float>* bias = nullptr;      // [O]
  const std::vector<float>* residual = nullptr;  // [N, O, Ho, Wo]
  int64_t Ho() const { return (H + 2 * padding - kh) / stride + 1; }
  int64_t Wo() const { return (W + 2 * padding - kw) / stride + 1; }
};
// out[idx] of the NCHW convolution, idx into the [N, O, Ho, Wo] output.
double conv2d_ref_at(const Conv2dRefArgs& r, const std::vector<float>& x, const std::vector<float>& w, int64_t idx);

}  // namespace vkdream::test
