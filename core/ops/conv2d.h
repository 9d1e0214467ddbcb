// 2-D convolution (NCHW, PyTorch weight layout) as an implicit GEMM: shaders/conv/conv2d.comp gathers
// the im2col matrix tile by tile into shared memory instead of materialising it.
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

struct Conv2dParams { int stride = 1; int padding = 0; };

// x [N, C, H, W], weight [O, C, kh, kw] (PyTorch layout), bias [O] optional, residual [N, O, Ho, Wo]
// optional (added after bias: fuses ResBlock skips). NCHW out [N, O, Ho, Wo], Ho = (H + 2p - kh) / stride + 1.
// Any kernel size, stride >= 1, padding >= 0. Each image (and the weights) must fit in one binding;
// batches are split across dispatches when the whole tensor does not.
Tensor conv2d(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias, Conv2dParams p,
              const Tensor* residual = nullptr);

}  // namespace vkdream::ops
