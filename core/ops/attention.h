// Scaled-dot-product multi-head attention (flash-attention style: online softmax over key tiles,
// never a score matrix, memory O(L*D)).
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// Multi-head attention as in PyTorch's scaled_dot_product_attention after the usual head split:
// q [B, Lq, H*D], k [B, Lk, H*D], v [B, Lk, H*D] -> out [B, Lq, H*D]; head h uses channels [h*D, (h+1)*D).
// scale = 1/sqrt(D) unless given (> 0). causal: query i sees keys j <= i (CLIP's mask).
// f32 or f16 tensors (all the same dtype); arithmetic and accumulation are f32 in every variant.
// D may be anything from 1 up to what the device's shared memory allows (256 at most; 32 KiB fits it).
Tensor attention(vk::Stream& s, const Tensor& q, const Tensor& k, const Tensor& v, int heads,
                 bool causal = false, float scale = 0.0f);

}  // namespace vkdream::ops
