// 3x3 stride-1 convolution by Winograd's minimal filtering (Lavin & Gray, 2015): F(4x4, 3x3), each 4x4 output tile
// 36 multiplies per (input, output channel) pair instead of 144 (4x fewer), as 36 independent GEMMs over the
// transformed weights and inputs, where the images hold at least 32 such tiles (one GEMM column block); otherwise
// F(2x2, 3x3), 16 multiplies per 2x2 tile instead of 36 (2.25x fewer). Used by ops::conv2d on the texel-GEMM path
// (lavapipe) in f32. The transformed weights of model weights are kept with them (vk::Context's budget).
#pragma once
#include "ops/conv2d.h"

namespace vkdream::ops::detail {

// out = conv2d(x, weight 3x3, stride 1, padding p.padding) (+ bias) (+ residual), when this path applies (f32,
// 3x3, stride 1, no pad_after, C % 8 == 0, enough output pixels to repay the weight transform, operands within
// one binding / texel view). Records nothing and returns false otherwise.
bool conv2d_winograd(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias, Conv2dParams p,
                     const Tensor* residual, const Tensor& out);

}  // namespace vkdream::ops::detail
