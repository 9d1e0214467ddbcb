// ComfyUI's `lanczos` image resize (comfy.utils.lanczos, used by ImageScale / ImageScaleBy /
// common_upscale "lanczos" and ImageResize+ "lanczos"): each image is quantized to 8 bit with
// clip(255 * x, 0, 255) truncated, resized by Pillow's Image.resize(LANCZOS) on that 8-bit image,
// and mapped back with / 255. The Pillow part is reproduced bit for bit: coefficients in double,
// fixed point with 22 fraction bits, horizontal pass into an 8-bit intermediate, then vertical.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// x [N, C, H, W] f32/f16 in [0, 1] -> [N, C, out_h, out_w], same dtype, values k / 255.
// C must be 1 (Pillow mode "L") or 3 ("RGB"): Pillow resizes those channels independently.
// (2 and 4 channels become "LA"/"RGBA", which Pillow resizes premultiplied: not supported.)
// `tall_vertical_first`: Pillow >= 12.2 resizes an image taller than 100x its width (when shrinking
// its height) vertically first, then horizontally; earlier Pillow, including the 9.4.0 that made the
// ComfyUI goldens, always goes horizontal then vertical (the default here).
Tensor resize_lanczos_u8(vk::Stream& s, const Tensor& x, int64_t out_h, int64_t out_w,
                         bool tall_vertical_first = false);

// One axis of Pillow's resampling for an 8-bit image: for output index i, taps
// [first[i], first[i] + count[i]) of the input with coefficients coeffs[i * ksize + k] in fixed point
// (Pillow's precompute_coeffs + normalize_coeffs_8bpc for the lanczos filter, box [0, in_size)).
struct LanczosAxis {
  int32_t ksize = 0;
  std::vector<int32_t> first, count, coeffs;
};
LanczosAxis lanczos_axis_coeffs(int64_t in_size, int64_t out_size);

}  // namespace vkdream::ops
