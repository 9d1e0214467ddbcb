#include "ops/conv2d.h"

#include <algorithm>
#include <numeric>

#include "ops/conv2d_winograd.h"
#include "ops/layout.h"
#include "ops/matmul.h"
#include "ops/op_util.h"

namespace vkdream::ops {

namespace {
// Workgroup tile (see shaders/common/gemm_tile.glsl): BM output channels x BN pixels, 4x4 per invocation.
constexpr uint32_t kBM = 32, kBN = 32, kBK = 16, kTM = 4, kTN = 4;
constexpr uint32_t kWG = (kBM / kTM) * (kBN / kTN);

struct Im2colPC {
  uint32_t C, H, W, Wo, pad, K, total, row_stride, p0, pixels, c0, x_base;
};

// Per image and per chunk of output pixels: col [pixels, C*kh*kw] = im2col(x) (k fastest), then the chunk's columns
// of out [O, Ho*Wo] = weight [O, K] @ col^T through the NT texel GEMM (ops::detail::texel_gemm_nt, writing with row
// stride Ho*Wo). On lavapipe this is ~10x faster than the implicit GEMM below, whose loads are per-lane scalar
// loops there; the chunks keep col within one binding for any image size (the VAE's 512x512 levels).
// Larger than one binding, x is read in blocks of input channels (each fills its columns of col: the GEMM sees
// the same matrix) and out is written in blocks of output channels (rows of the GEMM); so the result does not
// depend on the binding range.
// Returns false (recording nothing) where the texel GEMM cannot run.
bool conv2d_texel(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias, Conv2dParams p,
                  const Tensor* residual, const Tensor& out) {
  const auto& caps = s.ctx().caps();
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), HW = H * W;
  const int64_t O = weight.dim(0), kh = weight.dim(2), kw = weight.dim(3);
  const int64_t Ho = out.dim(2), Wo = out.dim(3), P = Ho * Wo, K = C * kh * kw;
  const uint64_t es = dtype_size(x.dtype());
  const uint64_t range = caps.max_storage_buffer_range;
  if (!detail::texel_gemm_available(s, x.dtype())) return false;
  if (K % 8 != 0) return false;
  const int64_t max_elems = window_elems(s, es);
  const uint64_t salign = std::max<uint64_t>(caps.min_storage_offset_alignment, 4);
  const uint64_t talign = std::max<uint64_t>(caps.min_texel_buffer_offset_alignment, 1);
  // Pixels per chunk: col within the binding, texel and 32-bit index limits; a multiple of 32 pixels whose start
  // keeps every chunk's slice of out storage-aligned (both powers of two: the larger is a multiple of the other).
  uint64_t chunk = std::min<uint64_t>(range / (uint64_t(K) * es), caps.max_texel_buffer_elements * 4 / uint64_t(K));
  chunk = std::min<uint64_t>(chunk, (uint64_t(UINT32_MAX) - 1) / uint64_t(K));
  const uint64_t chunk_unit = std::max<uint64_t>(32, salign / std::gcd(es, salign));
  if (chunk < uint64_t(P)) chunk = chunk / chunk_unit * chunk_unit;
  if (chunk == 0) return false;
  const int64_t Pc = std::min<int64_t>(P, int64_t(chunk));
  // Input channels per im2col dispatch: whole planes within one binding.
  const int64_t Cc = std::min<int64_t>(C, max_elems / HW);
  if (Cc == 0) return false;
  // Output channels per GEMM: the out/residual view ((Oc - 1) * P + Pc values) within one binding, no more rows
  // than texel_gemm_nt takes in one dispatch of a strided out, and block starts that keep the weight rows
  // texel-aligned and the bias and out views storage-aligned.
  int64_t gemm_rows = int64_t(range) / int64_t(std::max(K, Pc) * int64_t(es));
  gemm_rows = std::min<int64_t>(gemm_rows, int64_t(caps.max_texel_buffer_elements) / (K / 4));
  const int64_t block = detail::kTexelGemmRows;
  gemm_rows = std::min<int64_t>(gemm_rows, int64_t(std::min<uint32_t>(caps.max_workgroup_count[1], 65535)) * block);
  gemm_rows = gemm_rows / block * block;
  int64_t Oc = std::min<int64_t>({O, max_elems < Pc ? 0 : (max_elems - Pc) / P + 1, gemm_rows});
  if (Oc < O) {
    const uint64_t unit = std::lcm(std::lcm(salign / std::gcd(uint64_t(P) * es, salign), salign / std::gcd(es, salign)),
                                   talign / std::gcd(uint64_t(K) * es, talign));
    Oc = Oc / int64_t(unit) * int64_t(unit);
  }
  if (Oc <= 0) return false;
  // The GEMM binds each image's out/residual rows directly: their starts must be storage-aligned.
  const uint64_t image_bytes = uint64_t(O * P) * es;
  if ((N > 1 && image_bytes % salign) || out.ref().offset % salign || (residual && residual->ref().offset % salign))
    return false;
  Tensor w2 = weight.reshape({O, K});
  if (w2.ref().offset % talign) return false;
  auto& pl = pipeline(s, "conv/im2col", variant_for(s, x.dtype(), false), 2, {256, 1, 1},
                      {uint32_t(kh), uint32_t(kw), uint32_t(p.stride)});
  // im2col_texel.comp (4 channels per invocation, x through a texel view, 4-wide stores) where channel blocks
  // come in fours and the device reads one value per texel: on lavapipe ~4x faster than im2col.comp.
  const bool texel_fmt = x.dtype() == DType::F32 ? caps.storage_texel_r32f : caps.storage_texel_r16f;
  const vk::Pipeline* pl4 = nullptr;
  if (texel_fmt && C % 4 == 0 && Cc % 4 == 0)
    pl4 = &pipeline(s, "conv/im2col_texel", variant_for(s, x.dtype(), false), 2, {256, 1, 1},
                    {uint32_t(kh), uint32_t(kw), uint32_t(p.stride)},
                    {x.dtype() == DType::F32 ? VK_FORMAT_R32_SFLOAT : VK_FORMAT_R16_SFLOAT});
  // Columns c0 .. c0 + cc of col's rows = pixels p0 .. p0 + pixels of image xn [1, C, H, W] (channels c0 .. c0 + cc).
  auto im2col = [&](const Tensor& xn, int64_t c0, int64_t cc, int64_t p0, int64_t pixels, const Tensor& col) {
    Window wx = window(s, xn, c0 * HW, cc * HW);
    const bool four = pl4 && wx.ref.offset % talign == 0;
    const uint64_t items = uint64_t(pixels * cc / (four ? 4 : 1));
    Grid1D g = grid_1d(s, items, 256);
    Im2colPC pc{uint32_t(cc), uint32_t(H), uint32_t(W), uint32_t(Wo), uint32_t(p.padding), uint32_t(K),
                uint32_t(items), g.row_stride, uint32_t(p0), uint32_t(pixels), uint32_t(c0), wx.base};
    s.dispatch(four ? *pl4 : pl, {wx.ref}, {col.ref()}, pc, g.gx, g.gy);
  };
  // Images of fewer pixels than a GEMM workgroup's 32 columns (the UNet's 4x4 level at 256x256: 16) share its
  // columns: col [N * P, K] holds every image's rows and the GEMM writes each image's block of columns to its
  // plane of out (gemm_texel's image-column epilogue). Half of those columns were idle one image at a time.
  const int64_t NP = N * P;
  const uint64_t out_bytes = uint64_t(N * O * P) * es;
  if (N > 1 && P < 32 && uint64_t(NP) <= chunk && uint64_t(P * K) * es % salign == 0 && out_bytes <= range &&
      (!residual || residual->bytes() <= range) && Cc == C &&
      int64_t(range / (uint64_t(std::max(K, NP)) * es)) >= O &&
      int64_t(caps.max_texel_buffer_elements) / (K / 4) >= O) {
    Tensor col = Tensor::empty(s.ctx(), {NP, K}, x.dtype());
    if (col.ref().offset % talign == 0) {
      for (int64_t n = 0; n < N; ++n) im2col(x.slice0(n, 1), 0, C, 0, P, col.slice0(n * P, P));
      Tensor of = out.reshape({N * O, P});
      Tensor rf = residual ? residual->reshape({N * O, P}) : Tensor();
      if (!detail::texel_gemm_nt(s, w2, col, bias, true, residual ? &rf : nullptr, 1.0f, of, P, O * P))
        throw OpError("conv2d: texel GEMM refused operands it was checked for");
      return true;
    }
  }
  for (int64_t n = 0; n < N; ++n) {
    Tensor xn = x.slice0(n, 1);
    Tensor on = out.slice0(n, 1).reshape({O * P});
    Tensor rn = residual ? residual->slice0(n, 1).reshape({O * P}) : Tensor();
    for (int64_t p0 = 0; p0 < P; p0 += Pc) {
      const int64_t pixels = std::min(Pc, P - p0);
      Tensor col = Tensor::empty(s.ctx(), {pixels, K}, x.dtype());
      // Check first that the GEMM can take these operands, so nothing is recorded when it cannot.
      if (n == 0 && p0 == 0 && col.ref().offset % talign) return false;
      for (int64_t c0 = 0; c0 < C; c0 += Cc) im2col(xn, c0, std::min(Cc, C - c0), p0, pixels, col);
      for (int64_t o0 = 0; o0 < O; o0 += Oc) {
        const int64_t oc = std::min(Oc, O - o0);
        Tensor wc = oc == O ? w2 : w2.slice0(o0, oc);
        Tensor bc = !bias ? Tensor() : oc == O ? *bias : bias->slice0(o0, oc);
        // Row o of this block's output starts at (o0 + o) * P + p0: a flat view from there to the last row's end.
        auto view = [&](const Tensor& t) {
          return pixels == P ? t.slice0(o0 * P, oc * P).reshape({oc, P}) : t.slice0(o0 * P + p0, (oc - 1) * P + pixels);
        };
        Tensor ov = view(on), rv = residual ? view(rn) : Tensor();
        if (!detail::texel_gemm_nt(s, wc, col, bias ? &bc : nullptr, true, residual ? &rv : nullptr, 1.0f, ov,
                                   pixels == P ? 0 : P))
          throw OpError("conv2d: texel GEMM refused operands it was checked for");
      }
    }
  }
  return true;
}

struct ConvPC {
  uint32_t C, H, W, O, Ho, Wo, pad, flags;
  float inv_wo;
  uint32_t x_base, x_bstride, w_base, ldw, b_base, r_base, o_base, o_bstride;
};

// The implicit GEMM (shaders/conv/conv2d.comp) over windows that each fit one binding: several whole images per
// dispatch when they fit, else one image in blocks of output channels x blocks of input channels; the blocks of
// input channels after the first add their partial sums to the output (bound as the residual).
void conv2d_direct(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias, Conv2dParams p,
                   const Tensor* residual, const Tensor& out, const std::string& what) {
  const auto& caps = s.ctx().caps();
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), HW = H * W;
  const int64_t O = weight.dim(0), kh = weight.dim(2), kw = weight.dim(3), khw = kh * kw, K = C * khw;
  const int64_t Ho = out.dim(2), Wo = out.dim(3), P = Ho * Wo;
  const int64_t max_elems = window_elems(s, dtype_size(x.dtype()));
  const int64_t max_gy = std::min<uint32_t>(caps.max_workgroup_count[1], 65535);
  int64_t Cc = std::min<int64_t>({C, max_elems / HW, max_elems / khw});
  int64_t Oc = std::min<int64_t>({O, max_elems / P, max_gy * kBM});
  if (Cc > 0) Oc = std::min<int64_t>(Oc, (max_elems - Cc * khw) / K + 1);  // the weight window
  VKD_OP_CHECK(Cc > 0 && Oc > 0, what + ": one channel plane exceeds the device's binding range");
  VKD_OP_CHECK(ceil_div(uint64_t(P), kBN) <= std::min<uint32_t>(caps.max_workgroup_count[0], 65535),
               what + ": output plane too large for one dispatch");
  int64_t images = 1;
  if (Cc == C && Oc == O)
    images = std::clamp<int64_t>(max_elems / std::max(C * HW, O * P), 1,
                                 std::min<uint32_t>(caps.max_workgroup_count[2], 65535));
  auto& pl = pipeline(s, "conv/conv2d", variant_for(s, x.dtype(), false), 5, {kWG, 1, 1},
                      {kBM, kBN, kBK, kTM, kTN, uint32_t(kh), uint32_t(kw), uint32_t(p.stride)});
  ConvPC pc{};
  pc.H = uint32_t(H), pc.W = uint32_t(W), pc.Ho = uint32_t(Ho), pc.Wo = uint32_t(Wo), pc.pad = uint32_t(p.padding);
  pc.inv_wo = 1.0f / float(Wo);
  pc.x_bstride = uint32_t(C * HW), pc.ldw = uint32_t(K), pc.o_bstride = uint32_t(O * P);
  for (int64_t n0 = 0; n0 < N; n0 += images) {
    const int64_t nn = std::min(images, N - n0);
    for (int64_t o0 = 0; o0 < O; o0 += Oc) {
      const int64_t oc = std::min(Oc, O - o0);
      const int64_t o_first = n0 * O * P + o0 * P, o_count = (nn - 1) * O * P + oc * P;
      Window wo = window(s, out, o_first, o_count);
      Window wr = residual ? window(s, *residual, o_first, o_count) : wo;
      Window wb = bias ? window(s, *bias, o0, oc) : Window{};
      for (int64_t c0 = 0; c0 < C; c0 += Cc) {
        const int64_t cc = std::min(Cc, C - c0);
        const bool first = c0 == 0;
        Window wx = window(s, x, n0 * C * HW + c0 * HW, (nn - 1) * C * HW + cc * HW);
        Window ww = window(s, weight, o0 * K + c0 * khw, (oc - 1) * K + cc * khw);
        const Window& res = first ? wr : wo;  // later blocks accumulate onto the output
        pc.C = uint32_t(cc), pc.O = uint32_t(oc);
        pc.flags = (first && bias ? 1u : 0u) | (!first || residual ? 2u : 0u);
        pc.x_base = wx.base, pc.w_base = ww.base, pc.b_base = bias ? wb.base : 0, pc.r_base = res.base;
        pc.o_base = wo.base;
        s.dispatch(pl, {wx.ref, ww.ref, bias ? wb.ref : ww.ref, res.ref}, {wo.ref}, pc, ceil_div(uint64_t(P), kBN),
                   ceil_div(uint64_t(oc), kBM), uint32_t(nn));
      }
    }
  }
}
}  // namespace

Tensor conv2d(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias, Conv2dParams p,
              const Tensor* residual) {
  if (bias && !bias->defined()) bias = nullptr;
  if (residual && !residual->defined()) residual = nullptr;
  auto desc = [&] {
    std::string m = "x " + (x.defined() ? x.str() : "undefined") + ", weight " +
                    (weight.defined() ? weight.str() : "undefined") + ", stride " + std::to_string(p.stride) +
                    ", padding " + std::to_string(p.padding);
    if (p.pad_after) m += ", pad_after " + std::to_string(p.pad_after);
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
  if (p.stride < 1 || p.padding < 0 || p.pad_after < 0) fail("stride must be >= 1 and padding >= 0");
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  const int64_t O = weight.dim(0), kh = weight.dim(2), kw = weight.dim(3);
  if (weight.dim(1) != C) fail("weight has " + std::to_string(weight.dim(1)) + " input channels, x has " + std::to_string(C));
  if (kh < 1 || kw < 1) fail("empty kernel");
  const int64_t Hp = H + 2 * p.padding + p.pad_after, Wp = W + 2 * p.padding + p.pad_after;
  if (Hp < kh || Wp < kw) fail("kernel larger than the padded input");
  const int64_t Ho = (Hp - kh) / p.stride + 1, Wo = (Wp - kw) / p.stride + 1;
  Shape out_shape{N, O, Ho, Wo};
  if (bias && !(bias->rank() == 1 && bias->dim(0) == O)) fail("bias must be [O] = [" + std::to_string(O) + "]");
  if (residual && residual->shape() != out_shape) fail("residual must have the output shape " + shape_str(out_shape));
  const int64_t lim = int64_t(UINT32_MAX);
  if (C * H * W >= lim || weight.numel() >= lim || O * Ho * Wo >= lim) fail("too large for 32-bit indexing");

  Tensor out = Tensor::empty(s.ctx(), out_shape, x.dtype());
  if (out.numel() == 0) return out;
  if (detail::conv2d_winograd(s, x, weight, bias, p, residual, out)) return out;
  if (conv2d_texel(s, x, weight, bias, p, residual, out)) return out;
  // A few input channels whose C * kh * kw is not a multiple of 8 (the UNet's and the VAE's conv_in on 4 latent
  // channels, the encoder's on RGB): zero channels up to 8 let the texel GEMM (and Winograd) take them, where the
  // direct kernel took 140 ms for the UNet's conv_in at 256x256 on lavapipe. The zeros add exact zeros.
  if (C < 8 && (C * kh * kw) % 8 != 0 && detail::texel_gemm_available(s, x.dtype())) {
    auto pad_channels = [&](const Tensor& t) {
      Shape zs = t.shape();
      zs[1] = 8 - C;
      Tensor z = Tensor::empty(s.ctx(), zs, t.dtype());
      s.fill_zero(z.ref());
      return concat(s, {t, z}, 1);
    };
    const Tensor x8 = pad_channels(x), w8 = pad_channels(weight);
    if (detail::conv2d_winograd(s, x8, w8, bias, p, residual, out)) return out;
    if (conv2d_texel(s, x8, w8, bias, p, residual, out)) return out;
  }
  conv2d_direct(s, x, weight, bias, p, residual, out, "conv2d (" + desc() + ")");
  return out;
}

Tensor conv1x1_tokens(vk::Stream& s, const Tensor& x, int64_t H, int64_t W, const Tensor& weight, const Tensor* bias,
                      const Tensor* residual) {
  if (bias && !bias->defined()) bias = nullptr;
  if (residual && !residual->defined()) residual = nullptr;
  auto fail = [&](const std::string& why) {
    throw OpError("conv1x1_tokens: " + why + " (x " + (x.defined() ? x.str() : "undefined") + ", " + std::to_string(H) +
                  "x" + std::to_string(W) + ", weight " + (weight.defined() ? weight.str() : "undefined") + ")");
  };
  if (!x.defined() || !weight.defined()) fail("undefined operand");
  if (x.rank() != 3 || H <= 0 || W <= 0 || x.dim(1) != H * W) fail("x must be [N, H*W, C]");
  const int64_t N = x.dim(0), P = H * W, C = x.dim(2), O = weight.dim(0);
  if (!((weight.rank() == 2 || (weight.rank() == 4 && weight.dim(2) == 1 && weight.dim(3) == 1)) && weight.dim(1) == C))
    fail("weight must be [O, C, 1, 1] or [O, C] with C = " + std::to_string(C));
  if (bias && bias->shape() != Shape{O}) fail("bias must be [" + std::to_string(O) + "], got " + bias->str());
  if (residual && residual->shape() != Shape{N, O, H, W}) fail("residual must be the output's shape, got " + residual->str());
  check_same_dtype("conv1x1_tokens", {&x, &weight, bias, residual});
  Tensor w2 = weight.reshape({O, C});
  Tensor out = Tensor::empty(s.ctx(), {N, O, H, W}, x.dtype());
  if (out.numel() == 0) return out;
  const auto& caps = s.ctx().caps();
  const uint64_t es = dtype_size(x.dtype());
  const uint64_t talign = std::max<uint64_t>(caps.min_texel_buffer_offset_alignment, 1);
  const uint64_t salign = std::max<uint64_t>(caps.min_storage_offset_alignment, 4);
  // Every image's slices start where a texel view (x) and a storage binding (out, residual) may.
  bool texel = detail::texel_gemm_available(s, x.dtype()) && x.ref().offset % talign == 0 &&
               (N == 1 || (uint64_t(P * C) * es % talign == 0 && uint64_t(O * P) * es % salign == 0));
  for (int64_t n = 0; texel && n < N; ++n) {
    Tensor on = out.slice0(n, 1).reshape({O, P});
    Tensor rn = residual ? residual->slice0(n, 1).reshape({O, P}) : Tensor();
    if (!detail::texel_gemm_nt(s, w2, x.slice0(n, 1).reshape({P, C}), bias, true, residual ? &rn : nullptr, 1.0f, on)) {
      if (n > 0) throw OpError("conv1x1_tokens: texel GEMM refused image " + std::to_string(n) + " after image 0");
      texel = false;
    }
  }
  if (texel) return out;
  Tensor xc = permute(s, x.reshape({N, H, W, C}), {0, 3, 1, 2});
  return conv2d(s, xc, w2.reshape({O, C, 1, 1}), bias, {1, 0}, residual);
}

}  // namespace vkdream::ops
