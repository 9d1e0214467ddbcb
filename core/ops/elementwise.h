// Elementwise binary arithmetic with NumPy-style broadcasting (up to 4 dims).
#pragma once
#include <vector>

#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

enum class BinaryOp : uint32_t { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

// out = op(a, b) * scale; shapes broadcast right-aligned (a dim of 1 stretches).
Tensor binary(vk::Stream& s, BinaryOp op, const Tensor& a, const Tensor& b, float scale = 1.0f);
inline Tensor add(vk::Stream& s, const Tensor& a, const Tensor& b) { return binary(s, BinaryOp::kAdd, a, b); }
inline Tensor sub(vk::Stream& s, const Tensor& a, const Tensor& b) { return binary(s, BinaryOp::kSub, a, b); }
inline Tensor mul(vk::Stream& s, const Tensor& a, const Tensor& b) { return binary(s, BinaryOp::kMul, a, b); }
inline Tensor div(vk::Stream& s, const Tensor& a, const Tensor& b) { return binary(s, BinaryOp::kDiv, a, b); }

// out = sum_k coef_k * x_k + bias for 1..6 same-shaped tensors, accumulated in f32 whatever the
// storage (the samplers' update rules). More terms: chain calls.
struct Term {
  double coef;
  const Tensor* x;
};
Tensor lincomb(vk::Stream& s, const std::vector<Term>& terms, double bias = 0.0);

// out = clamp(x * mul + add, lo, hi), computed in f32.
Tensor affine_clamp(vk::Stream& s, const Tensor& x, float mul, float add, float lo, float hi);
// VAEDecode's mapping from [-1, 1] to [0, 1]: clamp(x * mul + add, 0, 1).
inline Tensor clamp01_affine(vk::Stream& s, const Tensor& x, float mul, float add) {
  return affine_clamp(s, x, mul, add, 0.0f, 1.0f);
}

// The broadcast shape of a and b, or OpError naming both.
Shape broadcast_shape(const char* op, const Shape& a, const Shape& b);

}  // namespace vkdream::ops
