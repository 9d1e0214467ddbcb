#include "bench/op_cases.h"

#include <memory>
#include <random>

#include "ops/attention.h"
#include "ops/conv2d.h"
#include "ops/matmul.h"
#include "ops/norm.h"

namespace vkdream::bench {
namespace {

Tensor random_tensor(vk::Stream& s, const Shape& shape, DType dt, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.5f);
  std::vector<float> v(size_t(shape_numel(shape)));
  for (auto& x : v) x = d(rng);
  return from_host(s, shape, dt, v);
}

OpCase conv_case(int64_t n, int64_t c, int64_t o, int64_t hw) {
  OpCase k;
  k.op = "conv2d_3x3";
  k.shape = std::to_string(n) + "x" + std::to_string(c) + "x" + std::to_string(hw) + "x" + std::to_string(hw) +
            " -> " + std::to_string(o);
  k.flops = 2.0 * n * o * hw * hw * c * 9;
  k.note = "conv2d_3x3 counts a direct convolution's 2*N*O*C*9*H*W FLOPs; where it runs Winograd F(2x2,3x3) (f32 on "
           "the texel-GEMM path: lavapipe) it multiplies 2.25x less, so its GFLOP/s and fraction are effective";
  k.memory_bound = false;
  k.bytes = [=](DType dt) { return double(dtype_size(dt)) * (n * c * hw * hw + o * c * 9 + n * o * hw * hw); };
  k.setup = [=](vk::Stream& s, DType dt) -> std::function<void()> {
    auto x = std::make_shared<Tensor>(random_tensor(s, {n, c, hw, hw}, dt, 1));
    auto w = std::make_shared<Tensor>(random_tensor(s, {o, c, 3, 3}, dt, 2));
    auto b = std::make_shared<Tensor>(random_tensor(s, {o}, dt, 3));
    return [&s, x, w, b] { ops::conv2d(s, *x, *w, b.get(), ops::Conv2dParams{1, 1}); };
  };
  return k;
}

OpCase matmul_case(int64_t m, int64_t kdim, int64_t n) {
  OpCase k;
  k.op = "matmul";
  k.shape = std::to_string(m) + "x" + std::to_string(kdim) + "x" + std::to_string(n) + " (MxKxN)";
  k.flops = 2.0 * m * kdim * n;
  k.memory_bound = false;
  k.bytes = [=](DType dt) { return double(dtype_size(dt)) * (m * kdim + kdim * n + m * n); };
  k.setup = [=](vk::Stream& s, DType dt) -> std::function<void()> {
    auto x = std::make_shared<Tensor>(random_tensor(s, {m, kdim}, dt, 4));
    auto w = std::make_shared<Tensor>(random_tensor(s, {n, kdim}, dt, 5));  // nn.Linear layout
    auto b = std::make_shared<Tensor>(random_tensor(s, {n}, dt, 6));
    return [&s, x, w, b] { ops::linear(s, *x, *w, b.get()); };
  };
  return k;
}

// Attention's scores for one chunk of queries, Q K^T batched over heads: a short-K product whose cost is mostly
// storing its outputs (attention at 512x512: 4096 keys, 40 channels per head).
OpCase scores_case(int64_t b, int64_t m, int64_t kdim, int64_t n) {
  OpCase k;
  k.op = "scores";
  k.shape = std::to_string(b) + "x" + std::to_string(m) + "x" + std::to_string(kdim) + "x" + std::to_string(n) +
            " (BxMxKxN)";
  k.flops = 2.0 * b * m * kdim * n;
  k.memory_bound = false;
  k.bytes = [=](DType dt) { return double(dtype_size(dt)) * b * (m * kdim + n * kdim + m * n); };
  k.setup = [=](vk::Stream& s, DType dt) -> std::function<void()> {
    auto x = std::make_shared<Tensor>(random_tensor(s, {b, m, kdim}, dt, 4));
    auto w = std::make_shared<Tensor>(random_tensor(s, {b, n, kdim}, dt, 5));
    return [&s, x, w] { ops::matmul(s, *x, *w, true); };
  };
  return k;
}

OpCase attention_case(int64_t batch, int64_t tokens, int64_t ctx_tokens, int64_t heads, int64_t d) {
  OpCase k;
  k.op = ctx_tokens == tokens ? "attention" : "cross_attn";
  k.shape = std::to_string(batch) + "x" + std::to_string(tokens) + " kv " + std::to_string(ctx_tokens) + ", " +
            std::to_string(heads) + "x" + std::to_string(d);
  k.flops = 4.0 * batch * heads * tokens * ctx_tokens * d;
  k.memory_bound = false;
  k.bytes = [=](DType dt) { return double(dtype_size(dt)) * batch * heads * d * (2 * tokens + 2 * ctx_tokens); };
  k.setup = [=](vk::Stream& s, DType dt) -> std::function<void()> {
    auto q = std::make_shared<Tensor>(random_tensor(s, {batch, tokens, heads * d}, dt, 7));
    auto kk = std::make_shared<Tensor>(random_tensor(s, {batch, ctx_tokens, heads * d}, dt, 8));
    auto v = std::make_shared<Tensor>(random_tensor(s, {batch, ctx_tokens, heads * d}, dt, 9));
    return [&s, q, kk, v, heads] { ops::attention(s, *q, *kk, *v, int(heads)); };
  };
  return k;
}

OpCase group_norm_case(int64_t n, int64_t c, int64_t hw) {
  OpCase k;
  k.op = "group_norm";
  k.shape = std::to_string(n) + "x" + std::to_string(c) + "x" + std::to_string(hw) + "x" + std::to_string(hw) +
            " +silu";
  int64_t numel = n * c * hw * hw;
  k.flops = 8.0 * numel;
  k.memory_bound = true;
  k.bytes = [=](DType dt) { return 2.0 * dtype_size(dt) * numel; };
  k.setup = [=](vk::Stream& s, DType dt) -> std::function<void()> {
    auto x = std::make_shared<Tensor>(random_tensor(s, {n, c, hw, hw}, dt, 10));
    auto g = std::make_shared<Tensor>(random_tensor(s, {c}, dt, 11));
    auto b = std::make_shared<Tensor>(random_tensor(s, {c}, dt, 12));
    return [&s, x, g, b] { ops::group_norm(s, *x, *g, *b, 32, 1e-5f, true); };
  };
  return k;
}

}  // namespace

std::vector<Precision> precisions(const vk::Context& ctx) {
  std::vector<Precision> out{{DType::F32, false, "f32"}};
  if (ctx.caps().fp16_storage) out.push_back({DType::F16, false, "f16"});
  if (ctx.caps().fp16_arithmetic) out.push_back({DType::F16, true, "f16a"});
  return out;
}

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = {
      conv_case(2, 320, 320, 64),
      conv_case(2, 640, 640, 32),
      matmul_case(4096, 320, 320),
      matmul_case(4096, 640, 2560),
      attention_case(2, 4096, 4096, 8, 40),
      scores_case(16, 128, 40, 4096),
      attention_case(2, 4096, 77, 8, 40),
      group_norm_case(2, 320, 64),
  };
  return cases;
}

}  // namespace vkdream::bench
