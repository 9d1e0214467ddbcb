// ComfyUI's `bislerp` latent resize (comfy.utils.bislerp, used by LatentUpscale / LatentUpscaleBy and
// common_upscale "bislerp"): a bilinear-style resize where each interpolation is a slerp between the two
// source pixels' channel vectors, first along the width, then along the height, computed in f32.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// x [N, C, H, W] f32/f16 -> [N, C, out_h, out_w], same dtype (f16 is widened to f32 first and the result
// rounded back, as ComfyUI's samples.float() ... .to(orig_dtype)).
Tensor resize_bislerp(vk::Stream& s, const Tensor& x, int64_t out_h, int64_t out_w);

// One axis of bislerp's generate_bilinear_data(length_old, length_new): PyTorch's f32 bilinear
// interpolation (align_corners=False) of arange(in) and of arange(in) + 1 with its last entry decremented,
// truncated to the source indices c1/c2, and ratio = coords_1 - floor(coords_1). Computed in f32 as PyTorch
// does, so c1 can land one below the exact index (with ratio just under 1) where the exact math is an integer.
struct BislerpAxis {
  std::vector<int32_t> c1, c2;
  std::vector<float> ratio;
};
BislerpAxis bislerp_axis(int64_t in_size, int64_t out_size);

}  // namespace vkdream::ops
