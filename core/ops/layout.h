// Layout helpers: contiguous copies that concatenate, permute, slice or duplicate tensors.
// All tensors are contiguous row-major; every op returns a new tensor of the input's dtype.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// Joins `parts` along `dim` (negative counts from the end); every other dim must match
// (UNet skip concat: [2,1280,8,8] + [2,1280,8,8] on dim 1 -> [2,2560,8,8]).
Tensor concat(vk::Stream& s, const std::vector<Tensor>& parts, int dim);
// out.shape[i] = x.shape[perm[i]], up to 4 dims, e.g. [N,C,H,W] -> [N,H,W,C] with {0,2,3,1}.
Tensor permute(vk::Stream& s, const Tensor& x, const std::vector<int>& perm);
// The rows [begin, end) of `dim` as a new contiguous tensor (negative dim counts from the end).
Tensor slice(vk::Stream& s, const Tensor& x, int dim, int64_t begin, int64_t end);
// Zero padding of the last two dims (the VAE encoder's Downsample pads right and bottom by one).
Tensor pad2d(vk::Stream& s, const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right);
// A new tensor with x's shape, dtype and contents.
Tensor copy(vk::Stream& s, const Tensor& x);

}  // namespace vkdream::ops
