#include "ops/norm.h"

#include <algorithm>

#include "ops/op_util.h"

namespace vkdream::ops {

namespace {

uint32_t pow2_at_least(uint64_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// The largest power-of-two workgroup size in x the device allows, up to `cap`.
uint32_t max_pow2_workgroup(vk::Stream& s, uint32_t cap) {
  const auto& caps = s.ctx().caps();
  uint32_t lim = std::min({cap, caps.max_workgroup_invocations, caps.max_workgroup_size[0]});
  uint32_t p = 1;
  while (p * 2 <= lim) p <<= 1;
  return p;
}

void check_affine(const std::string& op, const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t C) {
  VKD_OP_CHECK(x.defined() && gamma.defined() && beta.defined(), op + ": undefined operand");
  VKD_OP_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F16, op + ": needs f32 or f16 x, got " + x.str());
  VKD_OP_CHECK(gamma.shape() == Shape{C} && beta.shape() == Shape{C},
               op + ": gamma " + gamma.str() + " and beta " + beta.str() + " must be [" + std::to_string(C) +
                   "] for x " + x.str());
  check_same_dtype(op.c_str(), {&x, &gamma, &beta});
}

}  // namespace

Tensor group_norm(vk::Stream& s, const Tensor& x, const Tensor& gamma, const Tensor& beta, int groups, float eps,
                  bool silu) {
  const std::string op = "group_norm";
  VKD_OP_CHECK(x.defined() && x.rank() >= 2, op + ": x must be [N, C, *spatial], got " +
                                                 (x.defined() ? x.str() : std::string("undefined")));
  const int64_t N = x.dim(0), C = x.dim(1);
  check_affine(op, x, gamma, beta, C);
  VKD_OP_CHECK(groups > 0 && C % groups == 0,
               op + ": groups=" + std::to_string(groups) + " must divide C of x " + x.str());
  VKD_OP_CHECK(eps >= 0.0f, op + ": eps must be >= 0 for x " + x.str());
  Tensor y = Tensor::empty(s.ctx(), x.shape(), x.dtype());
  if (x.numel() == 0) return y;
  const int64_t HW = x.numel() / (N * C);
  const int64_t cpg = C / groups, L = cpg * HW, NG = N * groups;
  const auto& caps = s.ctx().caps();

  // Pass 1 geometry: chunks of at least 128 elements per invocation (the reduction at the end of
  // a chunk is the costly part on CPU devices), at most kMaxChunks per group.
  const uint32_t wg_stats = max_pow2_workgroup(s, 64);
  constexpr int64_t kMaxChunks = 64;
  int64_t chunk = std::max<int64_t>(int64_t(wg_stats) * 128, (L + kMaxChunks - 1) / kMaxChunks);
  chunk = (chunk + 3) / 4 * 4;
  const int64_t P = (L + chunk - 1) / chunk;
  // Pass 2 geometry: a span of up to 16 elements per invocation along one channel row.
  const uint32_t wg_apply = std::min(max_pow2_workgroup(s, 256), std::max<uint32_t>(32, pow2_at_least((HW + 3) / 4)));
  const int64_t span = int64_t(wg_apply) * 16;
  const int64_t spans = (HW + span - 1) / span;
  VKD_OP_CHECK(uint64_t(spans) <= caps.max_workgroup_count[0] && uint64_t(P) <= caps.max_workgroup_count[0],
               op + ": spatial size too large for the device's grid, x " + x.str());

  int64_t per = window_rows(s, op, L, dtype_size(x.dtype()), NG);
  per = std::min<int64_t>(per, caps.max_workgroup_count[1] / uint64_t(cpg));
  VKD_OP_CHECK(per > 0, op + ": too many channels per group for the device's grid, x " + x.str());

  Tensor partials = Tensor::empty(s.ctx(), {NG * P, 2}, DType::F32);
  Tensor stats = Tensor::empty(s.ctx(), {NG, 2}, DType::F32);
  const vk::Variant variant = variant_for(s, x.dtype(), false);
  // On a CPU device (both passes): lane shaders (a chunk or a span per invocation, texel reads, 8-wide stores)
  // where rows come in eights: the UNet step's 61 GroupNorms at 256x256 took 421 ms in pass 2, 162 in pass 1.
  const bool lanes = HW % 8 == 0 && cpu_lanes(s, x.dtype());
  const VkFormat fmt = texel4_format(x.dtype());
  auto texel_window = [&](const Window& w) { return w.base % 4 == 0 && texel4_view(s, w.ref, x.dtype()); };
  for (int64_t g0 = 0; g0 < NG; g0 += per) {
    const int64_t ng = std::min(per, NG - g0);
    Window wx = window(s, x, g0 * L, ng * L);
    if (lanes && texel_window(wx)) {
      constexpr uint32_t kWG = 8;
      const uint64_t total = uint64_t(ng * P);
      Grid1D g = grid_1d(s, total, kWG);
      struct {
        uint32_t x_base4, L, chunk, P, part_base, total, row_stride;
      } pc{wx.base / 4, uint32_t(L), uint32_t(chunk), uint32_t(P), uint32_t(g0), uint32_t(total), g.row_stride};
      auto& p = pipeline(s, "norm/group_norm_stats_lanes", variant, 2, {kWG, 1, 1}, {}, {fmt});
      s.dispatch(p, {wx.ref}, {partials.ref()}, pc, g.gx, g.gy);
      continue;
    }
    const uint32_t vec4 = wx.base % 4 == 0 && L % 4 == 0 ? 1 : 0;
    struct {
      uint32_t x_base, L, chunk, P, part_base;
    } pc{wx.base, uint32_t(L), uint32_t(chunk), uint32_t(P), uint32_t(g0)};
    auto& p = pipeline(s, "norm/group_norm_stats", variant, 2, {wg_stats, 1, 1}, {vec4});
    s.dispatch(p, {wx.ref}, {partials.ref()}, pc, uint32_t(P), uint32_t(ng));
  }
  {
    const uint32_t wg = 64;
    struct {
      uint32_t groups, L, chunk, P;
      float eps;
    } pc{uint32_t(NG), uint32_t(L), uint32_t(chunk), uint32_t(P), eps};
    VKD_OP_CHECK(ceil_div(uint64_t(NG), wg) <= caps.max_workgroup_count[0],
                 op + ": too many groups for the device's grid, x " + x.str());
    auto& p = pipeline(s, "norm/group_norm_finalize", vk::Variant::kF32, 2, {wg, 1, 1});
    s.dispatch(p, {partials.ref()}, {stats.ref()}, pc, ceil_div(uint64_t(NG), wg));
  }
  uint32_t block = 8;  // pass 2 lanes: 8-value stores per invocation (up to 64 values)
  while ((HW / 8) % block) block /= 2;
  for (int64_t g0 = 0; g0 < NG; g0 += per) {
    const int64_t ng = std::min(per, NG - g0);
    Window wx = window(s, x, g0 * L, ng * L), wy = window(s, y, g0 * L, ng * L);
    const uint64_t total = uint64_t(ng * cpg) * uint64_t(HW / 8 / block);
    if (lanes && texel_window(wx) && wy.base % 8 == 0 && total < (uint64_t(1) << 32)) {
      constexpr uint32_t kWG = 64;
      Grid1D g = grid_1d(s, total, kWG);
      struct {
        uint32_t x_base4, y_base8, HW8, cpg, C, c0, g0, total, row_stride;
      } pc{wx.base / 4, wy.base / 8, uint32_t(HW / 8), uint32_t(cpg), uint32_t(C), uint32_t((g0 * cpg) % C),
           uint32_t(g0), uint32_t(total), g.row_stride};
      auto& p = pipeline(s, "norm/group_norm_apply_lanes", variant, 5, {kWG, 1, 1}, {silu ? 1u : 0u, block}, {fmt});
      s.dispatch(p, {wx.ref, gamma.ref(), beta.ref(), stats.ref()}, {wy.ref}, pc, g.gx, g.gy);
      continue;
    }
    const uint32_t vec4 = wx.base % 4 == 0 && wy.base % 4 == 0 && HW % 4 == 0 ? 1 : 0;
    struct {
      uint32_t x_base, y_base, HW, cpg, C, c0, g0, span;
    } pc{wx.base, wy.base, uint32_t(HW), uint32_t(cpg), uint32_t(C), uint32_t((g0 * cpg) % C), uint32_t(g0),
         uint32_t(span)};
    auto& p = pipeline(s, "norm/group_norm_apply", variant, 5, {wg_apply, 1, 1}, {vec4, silu ? 1u : 0u});
    s.dispatch(p, {wx.ref, gamma.ref(), beta.ref(), stats.ref()}, {wy.ref}, pc, uint32_t(spans), uint32_t(ng * cpg));
  }
  return y;
}

namespace {
// LayerNorm on a CPU device through layer_norm_lanes.comp (a row per invocation, texel reads, 8-wide stores)
// where the device and operands allow; false (nothing recorded) otherwise. The UNet's 48 LayerNorms at 512x512
// (8192 rows of 320..1280) took about 1.5 s per step in layer_norm_vec4.comp's workgroup per row.
bool layer_norm_lanes(vk::Stream& s, const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                      const Tensor& y, int64_t rows, int64_t C) {
  if (C % 8 || rows >= (int64_t(1) << 32) || !cpu_lanes(s, x.dtype())) return false;
  if (gamma.dtype() != x.dtype() || beta.dtype() != x.dtype()) return false;
  for (const Tensor* t : {&x, &gamma, &beta})
    if (!texel4_view(s, t->ref(), x.dtype())) return false;
  if (x.bytes() > s.ctx().caps().max_storage_buffer_range) return false;
  constexpr uint32_t kWG = 8;
  Grid1D g = grid_1d(s, uint64_t(rows), kWG);
  struct {
    uint32_t rows, C8, row_stride;
    float eps;
  } pc{uint32_t(rows), uint32_t(C / 8), g.row_stride, eps};
  const VkFormat fmt = texel4_format(x.dtype());
  auto& p = pipeline(s, "norm/layer_norm_lanes", variant_for(s, x.dtype(), false), 4, {kWG, 1, 1}, {},
                     {fmt, fmt, fmt});
  s.dispatch(p, {x.ref(), gamma.ref(), beta.ref()}, {y.ref()}, pc, g.gx, g.gy);
  return true;
}
}  // namespace

Tensor layer_norm(vk::Stream& s, const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps) {
  const std::string op = "layer_norm";
  VKD_OP_CHECK(x.defined() && x.rank() >= 1,
               op + ": x must be [..., C], got " + (x.defined() ? x.str() : std::string("undefined")));
  const int64_t C = x.dim(-1);
  check_affine(op, x, gamma, beta, C);
  VKD_OP_CHECK(eps >= 0.0f, op + ": eps must be >= 0 for x " + x.str());
  if (x.numel() == 0) return Tensor::empty(s.ctx(), x.shape(), x.dtype());
  const int64_t rows = x.numel() / C;

  // Row in registers: up to kMaxPer elements per invocation of a power-of-two workgroup.
  constexpr uint32_t kMaxPer = 16;
  const uint32_t wg_max = max_pow2_workgroup(s, 1024);
  const uint32_t wg = std::min(wg_max, std::max<uint32_t>(32, pow2_at_least((C + kMaxPer - 1) / kMaxPer)));
  const uint32_t per_inv = uint32_t((C + wg - 1) / wg);
  if (per_inv > kMaxPer) {
    // Rows too long for registers: GroupNorm over [rows, C] with one group is the same op.
    return group_norm(s, x.reshape({rows, C}), gamma, beta, 1, eps).reshape(x.shape());
  }
  Tensor y = Tensor::empty(s.ctx(), x.shape(), x.dtype());
  if (layer_norm_lanes(s, x, gamma, beta, eps, y, rows, C)) return y;
  const auto& caps = s.ctx().caps();
  const int64_t gx_max = caps.max_workgroup_count[0], gy_max = caps.max_workgroup_count[1];
  int64_t per = window_rows(s, op, C, dtype_size(x.dtype()), rows);
  per = std::min<int64_t>(per, gx_max * gy_max);
  const vk::Variant variant = variant_for(s, x.dtype(), false);
  // 4 values per access where rows and windows allow (layer_norm_vec4.comp: 4x fewer SSBO accesses).
  const uint32_t wg4 = std::min(wg_max, std::max<uint32_t>(8, pow2_at_least((C / 4 + kMaxPer - 1) / kMaxPer)));
  const uint32_t per4 = uint32_t((C / 4 + wg4 - 1) / wg4);
  auto& p = pipeline(s, "norm/layer_norm", variant, 4, {wg, 1, 1}, {per_inv});
  for (int64_t r0 = 0; r0 < rows; r0 += per) {
    const int64_t cnt = std::min(per, rows - r0);
    Window wx = window(s, x, r0 * C, cnt * C), wy = window(s, y, r0 * C, cnt * C);
    if (C % 4 == 0 && wx.base % 4 == 0 && wy.base % 4 == 0) {
      auto& p4 = pipeline(s, "norm/layer_norm_vec4", variant, 4, {wg4, 1, 1}, {per4});
      const uint32_t gx = uint32_t(std::min(cnt, gx_max));
      struct {
        uint32_t x_base4, y_base4, C4, rows, gx;
        float eps;
      } pc{wx.base / 4, wy.base / 4, uint32_t(C / 4), uint32_t(cnt), gx, eps};
      s.dispatch(p4, {wx.ref, gamma.ref(), beta.ref()}, {wy.ref}, pc, gx, uint32_t((cnt + gx - 1) / gx));
      continue;
    }
    const uint32_t gx = uint32_t(std::min(cnt, gx_max));
    const uint32_t gy = uint32_t((cnt + gx - 1) / gx);
    struct {
      uint32_t x_base, y_base, C, rows, gx;
      float eps;
    } pc{wx.base, wy.base, uint32_t(C), uint32_t(cnt), gx, eps};
    s.dispatch(p, {wx.ref, gamma.ref(), beta.ref()}, {wy.ref}, pc, gx, gy);
  }
  return y;
}

}  // namespace vkdream::ops
