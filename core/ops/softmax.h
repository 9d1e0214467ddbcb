// Softmax over the last dimension.
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// softmax over the last dim, numerically stable (max subtracted), f32 accumulation.
// Any rank >= 1, f32 or f16; the output has x's shape and dtype.
Tensor softmax(vk::Stream& s, const Tensor& x);

}  // namespace vkdream::ops
