#include "ops/activation.h"

#include <algorithm>

#include "ops/op_util.h"

namespace vkdream::ops {

namespace {

constexpr uint32_t kWG = 256;


void check_float(const char* op, const Tensor& x) {
  VKD_OP_CHECK(x.defined(), std::string(op) + ": undefined input");
  VKD_OP_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F16,
               std::string(op) + ": needs an f32 or f16 tensor, got " + x.str());
}

// Records `unary` (OP = op) over x into y, in windows that respect the binding range.
void unary(vk::Stream& s, const Tensor& x, const Tensor& y, uint32_t op, float mul, float add, const char* name) {
  int64_t n = x.numel();
  if (n == 0) return;
  int64_t per = flat_window_elems(s, name, x);
  vk::Variant variant = variant_for(s, x.dtype(), true);
  for (int64_t first = 0; first < n; first += per) {
    int64_t cnt = std::min(per, n - first);
    Window wx = window(s, x, first, cnt), wy = window(s, y, first, cnt);
    uint32_t vec4 = wx.base % 4 == 0 && wy.base % 4 == 0 ? 1 : 0;
    struct {
      uint32_t x_base, y_base, n, row_stride;
      float mul, add;
    } pc{wx.base, wy.base, uint32_t(cnt), 0, mul, add};
    Grid1D g = grid_1d(s, vec4 ? (uint64_t(cnt) + 3) / 4 : uint64_t(cnt), kWG);
    pc.row_stride = g.row_stride;
    auto& p = pipeline(s, "activation/unary", variant, 2, {kWG, 1, 1}, {op, vec4});
    s.dispatch(p, {wx.ref}, {wy.ref}, pc, g.gx, g.gy);
  }
}

}  // namespace

Tensor activation(vk::Stream& s, const Tensor& x, Activation a) {
  const char* name = a == Activation::kSiLU        ? "silu"
                     : a == Activation::kGELU      ? "gelu"
                     : a == Activation::kQuickGELU ? "quick_gelu"
                                                   : "round";
  check_float(name, x);
  VKD_OP_CHECK(uint32_t(a) <= 2 || a == Activation::kRound, std::string("activation: unknown kind ") + std::to_string(uint32_t(a)));
  Tensor y = Tensor::empty(s.ctx(), x.shape(), x.dtype());
  unary(s, x, y, uint32_t(a), 1.0f, 0.0f, name);
  return y;
}

Tensor scale(vk::Stream& s, const Tensor& x, float mul, float add) {
  check_float("scale", x);
  Tensor y = Tensor::empty(s.ctx(), x.shape(), x.dtype());
  unary(s, x, y, 3, mul, add, "scale");
  return y;
}

Tensor geglu(vk::Stream& s, const Tensor& x) {
  check_float("geglu", x);
  VKD_OP_CHECK(x.rank() >= 1 && x.dim(-1) % 2 == 0,
               "geglu: last dim must be even ([..., 2F]), got " + x.str());
  Shape os = x.shape();
  int64_t F = os.back() / 2;
  os.back() = F;
  Tensor y = Tensor::empty(s.ctx(), os, x.dtype());
  if (y.numel() == 0) return y;
  int64_t rows = y.numel() / F;
  const auto& caps = s.ctx().caps();
  // On a CPU device, 8 outputs per invocation through geglu_lanes.comp (texel reads, 8-wide stores) where the
  // operands allow: the UNet's 16 GEGLUs at 512x512 took about 1.4 s per step in geglu.comp.
  if (F % 8 == 0 && cpu_lanes(s, x.dtype()) && texel4_view(s, x.ref(), x.dtype()) &&
      x.bytes() <= caps.max_storage_buffer_range && uint64_t(y.numel() / 8) < (uint64_t(1) << 32)) {
    const uint64_t total = uint64_t(y.numel() / 8);
    Grid1D g = grid_1d(s, total, kWG);
    struct {
      uint32_t F8, total, row_stride;
    } pc{uint32_t(F / 8), uint32_t(total), g.row_stride};
    auto& p = pipeline(s, "activation/geglu_lanes", variant_for(s, x.dtype(), true), 2, {kWG, 1, 1}, {},
                       {texel4_format(x.dtype())});
    s.dispatch(p, {x.ref()}, {y.ref()}, pc, g.gx, g.gy);
    return y;
  }
  VKD_OP_CHECK(uint64_t(ceil_div(uint64_t(F), kWG)) <= caps.max_workgroup_count[0],
               "geglu: last dim too large for one grid row, got " + x.str());
  int64_t per = window_rows(s, "geglu", 2 * F, dtype_size(x.dtype()), rows);
  per = std::min<int64_t>(per, caps.max_workgroup_count[1]);
  vk::Variant variant = variant_for(s, x.dtype(), true);
  for (int64_t r0 = 0; r0 < rows; r0 += per) {
    int64_t cnt = std::min(per, rows - r0);
    Window wx = window(s, x, r0 * 2 * F, cnt * 2 * F), wy = window(s, y, r0 * F, cnt * F);
    uint32_t vec4 = F % 4 == 0 && wx.base % 4 == 0 && wy.base % 4 == 0 ? 1 : 0;
    struct {
      uint32_t x_base, y_base, F, rows;
    } pc{wx.base, wy.base, uint32_t(F), uint32_t(cnt)};
    auto& p = pipeline(s, "activation/geglu", variant, 2, {kWG, 1, 1}, {vec4});
    s.dispatch(p, {wx.ref}, {wy.ref}, pc, ceil_div(vec4 ? uint64_t(F) / 4 : uint64_t(F), kWG), uint32_t(cnt));
  }
  return y;
}

Tensor cast(vk::Stream& s, const Tensor& x, DType to) {
  check_float("cast", x);
  VKD_OP_CHECK(to == DType::F32 || to == DType::F16,
               std::string("cast: target must be f32 or f16, got ") + dtype_name(to) + " for " + x.str());
  if (to == x.dtype()) return x;
  VKD_OP_CHECK(s.ctx().caps().fp16_storage,
               "cast: f16 tensors need 16-bit storage, which " + s.ctx().caps().name + " lacks");
  Tensor y = Tensor::empty(s.ctx(), x.shape(), to);
  int64_t n = x.numel();
  if (n == 0) return y;
  int64_t per = window_rows(s, "cast", 4, 4, (n + 3) / 4) * 4;  // sized for the f32 side
  uint32_t to_f16 = to == DType::F16 ? 1 : 0;
  for (int64_t first = 0; first < n; first += per) {
    int64_t cnt = std::min(per, n - first);
    Window wx = window(s, x, first, cnt), wy = window(s, y, first, cnt);
    uint32_t vec4 = wx.base % 4 == 0 && wy.base % 4 == 0 ? 1 : 0;
    struct {
      uint32_t x_base, y_base, n, row_stride;
    } pc{wx.base, wy.base, uint32_t(cnt), 0};
    Grid1D g = grid_1d(s, vec4 ? (uint64_t(cnt) + 3) / 4 : uint64_t(cnt), kWG);
    pc.row_stride = g.row_stride;
    auto& p = pipeline(s, "activation/cast", vk::Variant::kF32, 2, {kWG, 1, 1}, {to_f16, vec4});
    s.dispatch(p, {wx.ref}, {wy.ref}, pc, g.gx, g.gy);
  }
  return y;
}

}  // namespace vkdream::ops
