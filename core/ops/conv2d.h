// 2-D convolution (NCHW, PyTorch weight layout). Three paths, chosen per call: on devices with the texel GEMM
// (lavapipe), 3x3 stride-1 convs in f32 run Winograd F(4x4, 3x3) or F(2x2, 3x3) (conv2d_winograd.h: 4x or 2.25x
// fewer multiplies) and the others im2col + the texel GEMM; elsewhere an implicit GEMM (shaders/conv/conv2d.comp
// gathers the im2col matrix tile by tile into shared memory instead of materialising it).
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

struct Conv2dParams {
  int stride = 1;
  int padding = 0;
  // Extra zero rows below and columns right of the input, beyond `padding`: the VAE encoder's Downsample
  // pads (0, 1, 0, 1) before its stride-2 conv, without materialising the padded tensor.
  int pad_after = 0;
};

// x [N, C, H, W], weight [O, C, kh, kw] (PyTorch layout), bias [O] optional, residual [N, O, Ho, Wo]
// optional (added after bias: fuses ResBlock skips). NCHW out [N, O, Ho, Wo],
// Ho = (H + 2p + pad_after - kh) / stride + 1. Any kernel size, stride >= 1, padding >= 0.
// Tensors larger than the device's binding range are processed in windows that fit: batches of images,
// blocks of output channels, blocks of input channels (im2col fills its matrix block by block, so the
// result is the same; the direct kernel instead accumulates partial sums through its residual input).
// Only one channel plane of x or out must fit one binding.
Tensor conv2d(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias, Conv2dParams p,
              const Tensor* residual = nullptr);

// A 1x1 convolution of tokens: x [N, H*W, C] (channels last: a transformer's output) -> out [N, O, H, W]
// (+ bias [O]) (+ residual [N, O, H, W]), weight [O, C, 1, 1] or [O, C]; equal to conv2d of x permuted to
// [N, C, H, W]. With the texel GEMM, one NT product per image reads the tokens as they are (out_n [O][HW] =
// weight [O][C] x_n^T), where the permute and conv2d's im2col would transpose them there and back.
Tensor conv1x1_tokens(vk::Stream& s, const Tensor& x, int64_t H, int64_t W, const Tensor& weight, const Tensor* bias,
                      const Tensor* residual = nullptr);

}  // namespace vkdream::ops
