// Normalisations: GroupNorm (with an optional fused SiLU) and LayerNorm, statistics in float.
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// torch.nn.GroupNorm: x [N, C, *spatial] (any trailing dims, incl. none), groups divides C,
// statistics per (n, group) in float (chunked shifted sums merged exactly: accurate for groups of
// millions of elements), affine gamma/beta [C] (same dtype as x), optional fused SiLU on the
// output (ResBlock in_layers / out_layers). Two passes over memory: one reads x for per-chunk
// statistics, one normalises (and activates) it; a tiny dispatch in between merges the chunks.
Tensor group_norm(vk::Stream& s, const Tensor& x, const Tensor& gamma, const Tensor& beta, int groups,
                  float eps, bool silu = false);

// torch.nn.LayerNorm over the last dim: x [..., C], gamma/beta [C] (same dtype as x). One pass:
// each row is held in registers while its mean and variance are taken.
Tensor layer_norm(vk::Stream& s, const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps);

}  // namespace vkdream::ops
