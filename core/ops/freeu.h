// The per-channel ops of FreeU / FreeU_V2's backbone scaling (comfy_extras/nodes_freelunch.py), each
// rounding where torch rounds in the tensor's dtype. x is [B, C, H, W], f32 or f16.
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// torch's x.mean(1).unsqueeze(1): [B, 1, H, W], summed in float, in x's dtype.
Tensor channel_mean(vk::Stream& s, const Tensor& x);

// Per sample b (dim 0): (x - min_b) / (max_b - min_b) over all of the sample's elements; a flat sample
// gives NaN (0 / 0), as torch does.
Tensor minmax_normalize(vk::Stream& s, const Tensor& x);

// x with channels [0, c_end) multiplied by a factor, the rest copied:
//   map == nullptr: factor = add                      (FreeU: h[:, :C/2] * b1)
//   map [B, 1, H, W]: factor = mul * map + add       (FreeU_V2: (b1 - 1) * hidden_mean + 1)
Tensor scale_channels(vk::Stream& s, const Tensor& x, int64_t c_end, const Tensor* map, double mul, double add);

}  // namespace vkdream::ops
