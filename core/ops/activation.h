// Elementwise activations (SiLU, GELU, QuickGELU), LDM's GEGLU gate, affine scaling and
// f32 <-> f16 casts. Each op reads its input once and writes its output once (memory-bound).
#pragma once
#include <cstdint>

#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

enum class Activation : uint32_t {
  kSiLU = 0,       // x * sigmoid(x)
  kGELU = 1,       // exact erf form, torch default: 0.5 x (1 + erf(x / sqrt 2))
  kQuickGELU = 2,  // x * sigmoid(1.702 x) (CLIP)
  kRound = 4,      // torch.round: to the nearest integer, halves to even (masks)
};

// y = a(x), same shape and dtype. GELU is computed in float in every variant.
Tensor activation(vk::Stream& s, const Tensor& x, Activation a);
inline Tensor silu(vk::Stream& s, const Tensor& x) { return activation(s, x, Activation::kSiLU); }
inline Tensor gelu(vk::Stream& s, const Tensor& x) { return activation(s, x, Activation::kGELU); }
inline Tensor quick_gelu(vk::Stream& s, const Tensor& x) { return activation(s, x, Activation::kQuickGELU); }
inline Tensor round(vk::Stream& s, const Tensor& x) { return activation(s, x, Activation::kRound); }

// LDM GEGLU after its projection: x [..., 2F] -> [..., F], out = x[..., :F] * gelu(x[..., F:])
// (exact GELU, in float).
Tensor geglu(vk::Stream& s, const Tensor& x);

// y = x * mul + add (elementwise scale, e.g. the VAE's 0.18215 latent scaling).
Tensor scale(vk::Stream& s, const Tensor& x, float mul, float add = 0.0f);

// Precision conversion between F32 and F16 (same shape); f32 -> f16 rounds to nearest even and
// overflows to inf. Casting to the tensor's own dtype returns `x` itself (shared storage).
Tensor cast(vk::Stream& s, const Tensor& x, DType to);

}  // namespace vkdream::ops
