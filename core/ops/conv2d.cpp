#include "ops/conv2d.h"

#include <algorithm>

#include "ops/matmul.h"
#include "ops/op_util.h"

namespace vkdream::ops {

namespace {
// Workgroup tile (see shaders/common/gemm_tile.glsl): BM output channels x BN pixels, 4x4 per invocation.
constexpr uint32_t kBM = 32, kBN = 32, kBK = 16, kTM = 4, kTN = 4;
constexpr uint32_t kWG = (kBM / kTM) * (kBN / kTN);

struct Im2colPC {
  uint32_t C, H, W, Wo, pad, K, total, row_stride, p0, pixels;
};

// Per image and per chunk of output pixels: col [pixels, C*kh*kw] = im2col(x) (k fastest), then the chunk's columns
// of out [O, Ho*Wo] = weight [O, K] @ col^T through the NT texel GEMM (ops::detail::texel_gemm_nt, writing with row
// stride Ho*Wo). On lavapipe this is ~10x faster than the implicit GEMM below, whose loads are per-lane scalar
// loops there; the chunks keep col within one binding for any image size (the VAE's 512x512 levels).
// Returns false (recording nothing) where the texel GEMM cannot run.
bool conv2d_texel(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias, Conv2dParams p,
                  const Tensor* residual, const Tensor& out) {
  const auto& caps = s.ctx().caps();
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  const int64_t O = weight.dim(0), kh = weight.dim(2), kw = weight.dim(3);
  const int64_t Ho = out.dim(2), Wo = out.dim(3), P = Ho * Wo, K = C * kh * kw;
  const uint64_t es = dtype_size(x.dtype());
  const uint64_t range = caps.max_storage_buffer_range;
  if (!detail::texel_gemm_available(s, x.dtype()) || x.ref().offset % 4 != 0) return false;
  if (K % 8 != 0 || uint64_t(O * P) * es > range) return false;
  // Pixels per chunk: col within the binding, texel and 32-bit index limits; a multiple of 128 pixels so every
  // chunk's slice of out starts 256-byte aligned.
  uint64_t chunk = std::min<uint64_t>(range / (uint64_t(K) * es), caps.max_texel_buffer_elements * 4 / uint64_t(K));
  chunk = std::min<uint64_t>(chunk, (uint64_t(UINT32_MAX) - 1) / uint64_t(K));
  if (chunk < uint64_t(P)) chunk = chunk / 128 * 128;
  if (chunk == 0) return false;
  const int64_t Pc = std::min<int64_t>(P, int64_t(chunk));
  Tensor w2 = weight.reshape({O, K});
  const uint64_t align = std::max<uint64_t>(caps.min_texel_buffer_offset_alignment, 1);
  if (w2.ref().offset % align) return false;
  auto& pl = pipeline(s, "conv/im2col", variant_for(s, x.dtype(), false), 2, {256, 1, 1},
                      {uint32_t(kh), uint32_t(kw), uint32_t(p.stride)});
  for (int64_t n = 0; n < N; ++n) {
    Tensor xn = x.slice0(n, 1);
    Tensor on = out.slice0(n, 1).reshape({O * P});
    Tensor rn = residual ? residual->slice0(n, 1).reshape({O * P}) : Tensor();
    for (int64_t p0 = 0; p0 < P; p0 += Pc) {
      const int64_t pixels = std::min(Pc, P - p0);
      Tensor col = Tensor::empty(s.ctx(), {pixels, K}, x.dtype());
      // Check first that the GEMM can take these operands, so nothing is recorded when it cannot.
      if (n == 0 && p0 == 0 && col.ref().offset % align) return false;
      Grid1D g = grid_1d(s, uint64_t(pixels * C), 256);
      Im2colPC pc{uint32_t(C), uint32_t(H), uint32_t(W), uint32_t(Wo), uint32_t(p.padding), uint32_t(K),
                  uint32_t(pixels * C), g.row_stride, uint32_t(p0), uint32_t(pixels)};
      s.dispatch(pl, {xn.ref()}, {col.ref()}, pc, g.gx, g.gy);
      // Row o of this chunk's output starts at o * P + p0: a flat view from p0 to the last row's end.
      const int64_t span = (O - 1) * P + pixels;
      Tensor oc = pixels == P ? on.reshape({O, P}) : on.slice0(p0, span);
      Tensor rc = !residual ? Tensor() : pixels == P ? rn.reshape({O, P}) : rn.slice0(p0, span);
      if (!detail::texel_gemm_nt(s, w2, col, bias, true, residual ? &rc : nullptr, 1.0f, oc, pixels == P ? 0 : P))
        throw OpError("conv2d: texel GEMM refused operands it was checked for");
    }
  }
  return true;
}

struct ConvPC {
  uint32_t C, H, W, O, Ho, Wo, pad, flags;
  float inv_wo;
};
}  // namespace

Tensor conv2d(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias, Conv2dParams p,
              const Tensor* residual) {
  if (bias && !bias->defined()) bias = nullptr;
  if (residual && !residual->defined()) residual = nullptr;
  auto desc = [&] {
    std::string m = "x " + (x.defined() ? x.str() : "undefined") + ", weight " +
                    (weight.defined() ? weight.str() : "undefined") + ", stride " + std::to_string(p.stride) +
                    ", padding " + std::to_string(p.padding);
    if (bias) m += ", bias " + bias->str();
    if (residual) m += ", residual " + residual->str();
    return m;
  };
  auto fail = [&](const std::string& why) { throw OpError("conv2d: " + why + " (" + desc() + ")"); };
  if (!x.defined() || !weight.defined()) fail("undefined operand");
  check_same_dtype("conv2d", {&x, &weight, bias, residual});
  if (x.dtype() == DType::I32) fail("integer tensors are not supported");
  if (x.rank() != 4) fail("x must be [N, C, H, W]");
  if (weight.rank() != 4) fail("weight must be [O, C, kh, kw]");
  if (p.stride < 1 || p.padding < 0) fail("stride must be >= 1 and padding >= 0");
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  const int64_t O = weight.dim(0), kh = weight.dim(2), kw = weight.dim(3);
  if (weight.dim(1) != C) fail("weight has " + std::to_string(weight.dim(1)) + " input channels, x has " + std::to_string(C));
  if (kh < 1 || kw < 1) fail("empty kernel");
  const int64_t Ho = (H + 2 * p.padding - kh) / p.stride + 1, Wo = (W + 2 * p.padding - kw) / p.stride + 1;
  if (H + 2 * p.padding < kh || W + 2 * p.padding < kw) fail("kernel larger than the padded input");
  Shape out_shape{N, O, Ho, Wo};
  if (bias && !(bias->rank() == 1 && bias->dim(0) == O)) fail("bias must be [O] = [" + std::to_string(O) + "]");
  if (residual && residual->shape() != out_shape) fail("residual must have the output shape " + shape_str(out_shape));
  const int64_t lim = int64_t(UINT32_MAX);
  if (x.numel() >= lim || weight.numel() >= lim || shape_numel(out_shape) >= lim) fail("too large for 32-bit indexing");

  Tensor out = Tensor::empty(s.ctx(), out_shape, x.dtype());
  if (out.numel() == 0) return out;
  if (conv2d_texel(s, x, weight, bias, p, residual, out)) return out;
  const auto& caps = s.ctx().caps();
  const uint64_t range = caps.max_storage_buffer_range;
  if (weight.bytes() > range) fail("weight exceeds the device's binding range");
  const size_t es = dtype_size(x.dtype());
  const uint64_t per_image = uint64_t(std::max(C * H * W, O * Ho * Wo)) * es;
  if (per_image > range) fail("one image exceeds the device's binding range");
  const int64_t P = Ho * Wo;
  if (ceil_div(uint64_t(P), kBN) > std::min<uint32_t>(caps.max_workgroup_count[0], 65535) ||
      ceil_div(uint64_t(O), kBM) > std::min<uint32_t>(caps.max_workgroup_count[1], 65535))
    fail("output too large for one dispatch");
  auto& pl = pipeline(s, "conv/conv2d", variant_for(s, x.dtype(), false), 5, {kWG, 1, 1},
                      {kBM, kBN, kBK, kTM, kTN, uint32_t(kh), uint32_t(kw), uint32_t(p.stride)});
  int64_t max_images = std::max<int64_t>(1, int64_t(range / per_image));
  max_images = std::min<int64_t>(max_images, std::min<uint32_t>(caps.max_workgroup_count[2], 65535));
  ConvPC pc{uint32_t(C), uint32_t(H), uint32_t(W), uint32_t(O), uint32_t(Ho), uint32_t(Wo), uint32_t(p.padding),
            (bias ? 1u : 0u) | (residual ? 2u : 0u), 1.0f / float(Wo)};
  for (int64_t n0 = 0; n0 < N; n0 += max_images) {
    int64_t n = std::min(max_images, N - n0);
    Tensor xc = n == N ? x : x.slice0(n0, n);
    Tensor oc = n == N ? out : out.slice0(n0, n);
    Tensor rc = !residual ? Tensor() : n == N ? *residual : residual->slice0(n0, n);
    s.dispatch(pl, {xc.ref(), weight.ref(), (bias ? *bias : weight).ref(), residual ? rc.ref() : weight.ref()},
               {oc.ref()}, pc, ceil_div(uint64_t(P), kBN), ceil_div(uint64_t(O), kBM), uint32_t(n));
  }
  return out;
}

}  // namespace vkdream::ops
