// Blending overlapping tiles into one tensor the way ComfyUI's comfy.utils.tiled_scale does (tiled VAE):
// each tile is weighted by a feathered mask and summed, the masks are summed alongside, and the result is
// the ratio of the two sums.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// acc[0, :, y0:y0+h, x0:x0+w] += tile * mask and weight[0, 0, y0:y0+h, x0:x0+w] += mask, in place, where tile is
// [1, C, h, w] and mask is tiled_scale's: 1, times (t + 1) / feather at the t-th row / column from either edge
// (t < feather), an axis left unfeathered when feather >= its size. acc [1, C, H, W], weight [1, 1, H, W] and tile
// are f32; the tile must lie inside acc.
void tile_accumulate(vk::Stream& s, const Tensor& acc, const Tensor& weight, const Tensor& tile, int64_t y0,
                     int64_t x0, int64_t feather_y, int64_t feather_x);

}  // namespace vkdream::ops
