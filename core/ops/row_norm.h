// Per-row reductions over a matrix: the Euclidean norm of each row (DoRA's weight norm per channel).
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// x [rows, ...] (f32 or f16; every dim after the first is one row) -> f32 [rows],
// out[r] = sqrt(sum over the row of x^2) + eps, summed in float. A row of zeros gives eps.
Tensor row_l2_norm(vk::Stream& s, const Tensor& x, float eps = 0.0f);

}  // namespace vkdream::ops
