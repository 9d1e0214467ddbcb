#include "ops/conv2d_winograd.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "ops/kept_weights.h"
#include "ops/matmul.h"
#include "ops/op_util.h"

namespace vkdream::ops::detail {

namespace {
// Below this many output pixels (all images) the weight transform (16 * O * C values written per call) costs
// more than the multiplies it saves; measured on lavapipe (the UNet's 1280-channel convs at 8x8 and 4x4).
constexpr int64_t kMinPixels = 128;
// Each of the chunk's eight scratch tensors (V_r, M_r) stays within this many bytes (and one binding).
constexpr uint64_t kScratchBytes = uint64_t(64) << 20;
constexpr uint32_t kWG = 256;

// F(m x m, 3x3): output tiles of m x m from input patches of R x R (R = m + 2), R * R GEMMs kept as R tensors of R
// (one per row of the transformed tile, each within one binding), each run as one batched texel GEMM.
struct Variant {
  int64_t m;
  const char *weight, *input, *output;
};
// 2.25x fewer multiplies than the direct convolution.
constexpr Variant kF2{2, "conv/winograd_weight", "conv/winograd_input", "conv/winograd_output"};
// 4x fewer; its tiles are 4x fewer too, so it takes images with at least one GEMM column block of tiles (the
// UNet's 32x32 and 16x16 levels at 256x256 in a cfg batch; the 8x8 level's 8 tiles would leave 3/4 idle).
constexpr Variant kF4{4, "conv/winograd4_weight", "conv/winograd4_input", "conv/winograd4_output"};
constexpr int64_t kMinF4Tiles = 32;
constexpr int64_t kMaxR = 6;

struct WeightPC {
  uint32_t O, C4, total, row_stride, o0, g_base;
};
struct InputPC {
  uint32_t CG, H, W, pad, tiles_x, tiles_per_image, t0, Tc, cg0, cgn, total, row_stride, x_base, n_first,
      x_img_stride;
};
struct OutputPC {
  uint32_t O, Ho, Wo, tiles_x, tiles_per_image, t0, Tc, o0, oc_n, total, row_stride, out_base, res_base, n_first,
      out_img_stride;
};
}  // namespace

// The math: with V = B^T d B for every R x R input patch d (R = m + 2) and U = G g G^T for every 3x3 filter g, the
// m x m outputs are A^T (sum_c U[o][c] . V[c]) A, the sum elementwise over the R * R positions of the tile: for
// each position xi a GEMM M_xi [O][tiles] = U_xi [O][C] @ V_xi [tiles][C]^T. The positions are kept as R tensors
// of R (U_r, V_r, M_r for tile row r) so each fits one binding, and run as R batched texel GEMMs.
// Tiles are numbered over (image, tile row, tile column) and processed in chunks that bound the scratch memory.
bool conv2d_winograd(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias, Conv2dParams p,
                     const Tensor* residual, const Tensor& out) {
  const auto& caps = s.ctx().caps();
  if (x.dtype() != DType::F32 || !caps.storage_texel_r32f || !texel_gemm_available(s, x.dtype())) return false;
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), HW = H * W;
  const int64_t O = weight.dim(0), Ho = out.dim(2), Wo = out.dim(3), P = Ho * Wo;
  if (weight.dim(2) != 3 || weight.dim(3) != 3 || p.stride != 1 || p.pad_after != 0 || C % 8 != 0) return false;
  if (N * P < kMinPixels) return false;
  const Variant& var = N * ((Ho + 3) / 4) * ((Wo + 3) / 4) >= kMinF4Tiles ? kF4 : kF2;
  const int64_t R = var.m + 2, tm = var.m;
  const uint64_t es = dtype_size(x.dtype()), range = caps.max_storage_buffer_range;
  const uint64_t max_texels = caps.max_texel_buffer_elements;
  const uint64_t talign = std::max<uint64_t>(caps.min_texel_buffer_offset_alignment, 1);
  const uint64_t salign = std::max<uint64_t>(caps.min_storage_offset_alignment, 4);
  // The weights through texel views of 4 values, whole or in blocks of output channels (their rows of 9C values
  // start 16-byte aligned); U_r [4][O][C] a GEMM operand in one binding.
  const int64_t max_elems = window_elems(s, es);
  const int64_t Ow = std::min<int64_t>({O, max_elems / (9 * C), int64_t(max_texels) * 4 / (9 * C)});
  if (Ow <= 0 || weight.ref().offset % 16 || weight.ref().offset % talign || salign % talign) return false;
  if (uint64_t(R * O * C) * es > range || uint64_t(R * O * C / 4) > max_texels) return false;
  if (uint64_t(O) > uint64_t(std::min<uint32_t>(caps.max_workgroup_count[1], 65535)) * 8) return false;
  // x through one texel view, out and the residual through one binding each, when they fit; otherwise one image at a
  // time, in windows of whole channel planes (x: a multiple of 8 channels, or of 4 where 8 planes do not fit) that
  // start where a texel view may.
  const bool x_whole = x.bytes() <= range && uint64_t(x.numel()) <= max_texels && x.ref().offset % talign == 0;
  const bool out_whole = out.bytes() <= range && (!residual || residual->bytes() <= range);
  int64_t Cc = C, Oc = O, group = 8;
  if (!x_whole) {
    if (x.ref().offset % salign) return false;
    const int64_t planes = std::min<int64_t>(C, std::min<int64_t>(max_elems, int64_t(max_texels) - int64_t(salign)) / HW);
    group = planes >= 8 ? 8 : 4;  // the input transform takes 8 channels at a time where a window holds them
    Cc = planes / group * group;
  }
  if (!out_whole) Oc = std::min<int64_t>(O, max_elems / P);
  if (Cc <= 0 || Oc <= 0) return false;
  const bool per_image = !x_whole || !out_whole;
  const int64_t tiles_x = (Wo + tm - 1) / tm, tiles_y = (Ho + tm - 1) / tm, tiles_per_image = tiles_x * tiles_y;
  const int64_t T = N * tiles_per_image;
  // Tiles per chunk: V_r [R][Tc][C] and M_r [R][O][Tc] within the scratch budget, M_r's r32f view within the
  // texel limit, the GEMM's columns within the grid; a multiple of the GEMM's 32 columns when chunked.
  const uint64_t budget = std::min(range, kScratchBytes);
  uint64_t tc = budget / (uint64_t(R) * uint64_t(std::max(C, O)) * es);
  tc = std::min<uint64_t>(tc, max_texels / (uint64_t(R) * uint64_t(O)));
  tc = std::min<uint64_t>(tc, uint64_t(caps.max_workgroup_count[0]) * 32);
  tc = std::min<uint64_t>(tc, (uint64_t(UINT32_MAX) / uint64_t(R)) / uint64_t(std::max(C, O)));
  const int64_t span = per_image ? tiles_per_image : T;  // the tiles one chunk may cover
  if (tc < uint64_t(span)) tc = tc / 32 * 32;
  if (tc == 0) return false;
  const int64_t Tc = std::min<int64_t>(span, int64_t(tc));
  // F(2x2): two tiles per output-transform invocation, stored 4-wide, where rows of outputs start at multiples of
  // 4 values (4 | Wo, offsets in 16 bytes: every chunk then has an even tile count, tiles_x being even, Tc a
  // multiple of 32); F(4x4): one tile, its rows stored 4-wide.
  const bool pair = Wo % 4 == 0 && out.ref().offset % 16 == 0 && (!residual || residual->ref().offset % 16 == 0);
  // F(2x2): four tiles per invocation, F(4x4): two, stored 8-wide, where 8 | Wo and out (and the residual) are bound
  // whole from multiples of 32 bytes (tile counts per chunk are then multiples of 4: tiles_x is, and Tc is a
  // multiple of 32).
  const bool quad = pair && Wo % 8 == 0 && out_whole && out.ref().offset % 32 == 0 &&
                    (!residual || residual->ref().offset % 32 == 0);
  const uint32_t tiles_per_invocation = tm == 4 ? (quad ? 2 : 1) : quad ? 4 : pair ? 2 : 1;

  const vk::Variant v = variant_for(s, x.dtype(), false);
  const VkFormat r32 = VK_FORMAT_R32_SFLOAT;
  const uint32_t nr = uint32_t(R);
  auto& pw = pipeline(s, var.weight, v, 1 + nr, {kWG, 1, 1}, {}, {VK_FORMAT_R32G32B32A32_SFLOAT});
  auto& pi = pipeline(s, var.input, v, 1 + nr, {kWG, 1, 1}, {group == 8 ? 1u : 0u}, {r32});
  auto& po = pipeline(s, var.output, v, nr + 3, {kWG, 1, 1},
                      {quad ? 2u : pair ? 1u : 0u, (bias ? 1u : 0u) | (residual ? 2u : 0u)},
                      std::vector<VkFormat>(size_t(R), r32));
  // The R tensors of a transformed operand, as bindings.
  auto refs = [&](const Tensor* t) {
    std::vector<vk::BufferRef> r;
    for (int64_t i = 0; i < R; ++i) r.push_back(t[i].ref());
    return r;
  };

  // U_r = G g G^T for every filter: recorded here, or (model weights) transformed once and kept with the weight.
  auto transform = [&](vk::Stream& ws, vk::MemoryPool* pool) {
    auto U = std::make_shared<std::vector<Tensor>>();
    for (int64_t r = 0; r < R; ++r) U->push_back(Tensor::empty(ws.ctx(), {R, O, C}, x.dtype(), pool));
    for (int64_t o0 = 0; o0 < O; o0 += Ow) {
      const int64_t ow = std::min(Ow, O - o0);
      Window wg = ow == O ? Window{weight.ref(), 0} : window(ws, weight, o0 * 9 * C, ow * 9 * C);
      Grid1D g = grid_1d(ws, uint64_t(ow * C / 4), kWG);
      WeightPC pc{uint32_t(O), uint32_t(C / 4), uint32_t(ow * C / 4), g.row_stride, uint32_t(o0), wg.base / 4};
      ws.dispatch(pw, {wg.ref}, refs(U->data()), &pc, sizeof(pc), g.gx, g.gy);
    }
    return U;
  };
  std::shared_ptr<std::vector<Tensor>> kept = kept_derived(s.ctx(), weight, "winograd_f" + std::to_string(tm),
                                                           uint64_t(R * R * O * C) * es, transform);
  if (!kept) kept = transform(s, nullptr);
  const std::vector<Tensor>& U = *kept;
  for (int64_t s0 = 0; s0 < T; s0 += span) {
    // The image of this span: windows of x and out start there (a whole operand keeps absolute image offsets).
    const int64_t n_first = per_image ? s0 / tiles_per_image : 0;
    for (int64_t t0 = s0; t0 < s0 + span; t0 += Tc) {
      const int64_t tc_n = std::min(Tc, s0 + span - t0);
      Tensor V[kMaxR], M[kMaxR];
      for (int64_t r = 0; r < R; ++r) {
        V[r] = Tensor::empty(s.ctx(), {R, tc_n, C}, x.dtype());
        M[r] = Tensor::empty(s.ctx(), {R, O, tc_n}, x.dtype());
      }
      for (int64_t c0 = 0; c0 < C; c0 += Cc) {
        const int64_t cc = std::min(Cc, C - c0);
        Window wx = x_whole ? Window{x.ref(), 0} : window(s, x, (n_first * C + c0) * HW, cc * HW);
        Grid1D g = grid_1d(s, uint64_t(cc / group * tc_n), kWG);
        InputPC pc{uint32_t(C / group),   uint32_t(H),     uint32_t(W),
                   uint32_t(p.padding),   uint32_t(tiles_x), uint32_t(tiles_per_image),
                   uint32_t(t0),          uint32_t(tc_n),  uint32_t(c0 / group),
                   uint32_t(cc / group),  uint32_t(cc / group * tc_n), g.row_stride,
                   wx.base,               uint32_t(x_whole ? 0 : n_first), uint32_t(x_whole ? C * HW : 0)};
        s.dispatch(pi, {wx.ref}, refs(V), &pc, sizeof(pc), g.gx, g.gy);
      }
      for (int64_t r = 0; r < R; ++r)
        if (!texel_gemm_nt_batched(s, U[r], V[r], nullptr, 1.0f, M[r]))
          throw OpError("conv2d: texel GEMM refused the Winograd operands it was checked for");
      for (int64_t o0 = 0; o0 < O; o0 += Oc) {
        const int64_t oc = std::min(Oc, O - o0);
        const int64_t first = (n_first * O + o0) * P, count = oc * P;
        Window wo = out_whole ? Window{out.ref(), 0} : window(s, out, first, count);
        Window wr = !residual ? Window{M[0].ref(), 0} : out_whole ? Window{residual->ref(), 0} : window(s, *residual, first, count);
        const uint64_t invocations = uint64_t(oc * tc_n) / tiles_per_invocation;
        Grid1D g = grid_1d(s, invocations, kWG);
        OutputPC pc{uint32_t(O),        uint32_t(Ho),       uint32_t(Wo),     uint32_t(tiles_x),
                    uint32_t(tiles_per_image), uint32_t(t0), uint32_t(tc_n),  uint32_t(o0),
                    uint32_t(oc),       uint32_t(invocations), g.row_stride,
                    wo.base, wr.base, uint32_t(out_whole ? 0 : n_first),
                    uint32_t(out_whole ? O * P : 0)};
        std::vector<vk::BufferRef> in = refs(M);
        in.push_back((bias ? *bias : M[0]).ref());
        in.push_back(wr.ref);
        s.dispatch(po, in, {wo.ref}, &pc, sizeof(pc), g.gx, g.gy);
      }
    }
  }
  return true;
}

}  // namespace vkdream::ops::detail
