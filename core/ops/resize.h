// 2-D resizing of NCHW tensors, matching torch.nn.functional.interpolate with
// align_corners=False (what ComfyUI's upscale nodes call) and adaptive_avg_pool2d for 'area'.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

enum class ResizeMode : uint32_t {
  kNearest = 0,       // torch 'nearest': src = min(floor(dst * in/out), in-1)
  kNearestExact = 1,  // torch 'nearest-exact': src = min(floor((dst + 0.5) * in/out), in-1)
  kBilinear = 2,      // src = (dst + 0.5) * in/out - 0.5, negative clamped to 0
  kBicubic = 3,       // same source index, Keys kernel A = -0.75, taps clamped to the border
  kArea = 4,          // adaptive_avg_pool2d: mean of [floor(i*in/out), ceil((i+1)*in/out))
};
const char* resize_mode_name(ResizeMode m);

// x [N, C, H, W] -> [N, C, out_h, out_w], same dtype.
Tensor resize(vk::Stream& s, const Tensor& x, int64_t out_h, int64_t out_w, ResizeMode mode);
// x [N, C, H, W] -> [N, C, 2H, 2W], each value repeated 2x2 (the UNet's Upsample before its conv).
Tensor upsample_nearest2x(vk::Stream& s, const Tensor& x);

}  // namespace vkdream::ops
