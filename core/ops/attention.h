// Scaled-dot-product multi-head attention, computed in blocks of query rows so the score matrix
// never exceeds a fixed budget (memory grows with L, not L^2): S = scale * Q K^T, softmax, P V.
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// Multi-head attention as in PyTorch's scaled_dot_product_attention after the usual head split:
// q [B, Lq, H*D], k [B, Lk, H*D], v [B, Lk, H*D] -> out [B, Lq, H*D]; head h uses channels [h*D, (h+1)*D).
// scale = 1/sqrt(D) unless given (> 0). causal: query i sees keys j <= i (CLIP's mask).
// f32 or f16 tensors (all the same dtype); arithmetic and accumulation are f32 in every variant.
// Any head dim D >= 1. keys (> 0): only the first `keys` keys count, the others get probability 0 whatever
// they hold (a text context padded with rows to a multiple of 8, which the CPU device's GEMM needs: padding it
// once per UNet call spares every cross-attention its own padding).
Tensor attention(vk::Stream& s, const Tensor& q, const Tensor& k, const Tensor& v, int heads,
                 bool causal = false, float scale = 0.0f, int64_t keys = 0);

// A UNet attention block's products: attention(x Wq^T, ctx Wk^T, ctx Wv^T, heads, not causal, 1/sqrt(D), keys)
// for x [B, Lq, C], ctx [B, Lk, Cc], weights [H*D, C or Cc] (PyTorch's layout, no biases) -> [B, Lq, H*D]. On the
// texel-GEMM path (lavapipe, f32, Lk % 8 == 0) the projections store q and k with their heads already split and v
// as V^T, which spares four layout passes per block; elsewhere linear + attention.
Tensor projected_attention(vk::Stream& s, const Tensor& x, const Tensor& ctx, const Tensor& wq, const Tensor& wk,
                           const Tensor& wv, int heads, int64_t keys = 0);

// The f32 score block's size limit (default 32 MiB; returns the previous value). Tests shrink it to
// exercise the blocking; a device with little memory may too.
uint64_t set_attention_score_budget(uint64_t bytes);

}  // namespace vkdream::ops
