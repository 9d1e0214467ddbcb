#include "ops/elementwise.h"

#include <algorithm>

#include "ops/op_util.h"

namespace vkdream::ops {

Shape broadcast_shape(const char* op, const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      throw OpError(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {
// Strides of `s` (right-aligned into 4 dims) with 0 where the dim broadcasts.
std::array<uint32_t, 4> broadcast_strides(const Shape& s, const std::array<int64_t, 4>& out) {
  std::array<int64_t, 4> d{1, 1, 1, 1};
  for (size_t i = 0; i < s.size(); ++i) d[4 - s.size() + i] = s[i];
  std::array<uint32_t, 4> st{};
  int64_t stride = 1;
  for (int i = 3; i >= 0; --i) {
    st[i] = d[i] == 1 && out[i] != 1 ? 0 : uint32_t(stride);
    stride *= d[i];
  }
  return st;
}
// On a CPU device, out = op(a, b) * scale where b holds one value per row of a's trailing dims (b's shape: a's
// leading dims, then 1s; rows of L % 8 == 0 values) through binary_rows_lanes.comp, 8 outputs per invocation.
// The UNet's ResBlocks add their time embedding so ([B, C, H, W] + [B, C, 1, 1]): 173 ms of a 256x256 step in
// binary.comp, whose scalar loads and stores run lane by lane on llvmpipe. False (nothing recorded) elsewhere.
bool binary_rows_lanes(vk::Stream& s, BinaryOp op, const Tensor& a, const Tensor& b, float scale, const Tensor& out) {
  if (a.shape() != out.shape() || !cpu_lanes(s, a.dtype()) || !texel4_view(s, a.ref(), a.dtype())) return false;
  const Shape& as = a.shape();
  Shape bs(as.size() - std::min(as.size(), b.shape().size()), 1);
  bs.insert(bs.end(), b.shape().begin(), b.shape().end());
  if (bs.size() != as.size()) return false;
  size_t lead = 0;  // b matches a on dims [0, lead) and is 1 after
  while (lead < as.size() && bs[lead] == as[lead] && as[lead] != 1) ++lead;
  for (size_t i = lead; i < as.size(); ++i)
    if (bs[i] != 1) return false;
  const int64_t rows = b.numel(), L = a.numel() / std::max<int64_t>(rows, 1);
  const uint64_t range = s.ctx().caps().max_storage_buffer_range;
  if (L % 8 || a.bytes() > range || b.bytes() > range || uint64_t(a.numel() / 8) >= (uint64_t(1) << 32)) return false;
  const uint64_t total = uint64_t(a.numel() / 8);
  Grid1D g = grid_1d(s, total, 256);
  struct {
    uint32_t L8, total, row_stride;
    float scale;
  } pc{uint32_t(L / 8), uint32_t(total), g.row_stride, scale};
  auto& p = pipeline(s, "elementwise/binary_rows_lanes", variant_for(s, a.dtype(), true), 3, {256, 1, 1},
                     {uint32_t(op)}, {texel4_format(a.dtype())});
  s.dispatch(p, {a.ref(), b.ref()}, {out.ref()}, pc, g.gx, g.gy);
  return true;
}
}  // namespace

Tensor binary(vk::Stream& s, BinaryOp op, const Tensor& a, const Tensor& b, float scale) {
  check_same_dtype("binary", {&a, &b});
  Shape os = broadcast_shape("binary", a.shape(), b.shape());
  VKD_OP_CHECK(os.size() <= 4, "binary: more than 4 dims in " + shape_str(os));
  VKD_OP_CHECK(shape_numel(os) < (int64_t(1) << 32), "binary: tensor too large " + shape_str(os));
  std::array<int64_t, 4> o4{1, 1, 1, 1};
  for (size_t i = 0; i < os.size(); ++i) o4[4 - os.size() + i] = os[i];
  Tensor out = Tensor::empty(s.ctx(), os, a.dtype());
  if (out.numel() == 0) return out;
  if (binary_rows_lanes(s, op, a, b, scale, out)) return out;
  struct {
    uint32_t shape[4];
    std::array<uint32_t, 4> sa, sb;
    uint32_t total, op;
    float scale;
    uint32_t row_stride, a_base, b_base, o_base;
  } pc{};
  for (int i = 0; i < 4; ++i) pc.shape[i] = uint32_t(o4[i]);
  pc.sa = broadcast_strides(a.shape(), o4);
  pc.sb = broadcast_strides(b.shape(), o4);
  pc.op = uint32_t(op);
  pc.scale = scale;
  const uint32_t wg = 256;
  uint32_t broadcast = a.shape() == os && b.shape() == os ? 0u : 1u;
  auto& p = pipeline(s, "elementwise/binary", variant_for(s, a.dtype(), true), 3, {wg, 1, 1}, {broadcast});
  // Windows of one binding: flat ranges without broadcasting; with it, whole rows of the outer dim
  // (an operand broadcast along that dim is bound whole).
  const int64_t rows = broadcast ? o4[0] : out.numel(), row = broadcast ? out.numel() / o4[0] : 1;
  const int64_t per = broadcast ? window_rows(s, "binary", row, dtype_size(a.dtype()), rows) : flat_window_elems(s, "binary", out);
  auto operand = [&](const Tensor& t, uint32_t stride0, int64_t r0, int64_t cnt) {
    if (!broadcast) return window(s, t, r0, cnt);
    if (stride0 == 0) {
      VKD_OP_CHECK(t.bytes() <= s.ctx().caps().max_storage_buffer_range,
                   "binary: broadcast operand " + t.str() + " exceeds the device's binding range");
      return window(s, t, 0, t.numel());
    }
    return window(s, t, r0 * stride0, cnt * stride0);
  };
  for (int64_t r0 = 0; r0 < rows; r0 += per) {
    const int64_t cnt = std::min(per, rows - r0);
    Window wa = operand(a, pc.sa[0], r0, cnt), wb = operand(b, pc.sb[0], r0, cnt);
    Window wo = window(s, out, r0 * row, cnt * row);
    pc.shape[0] = broadcast ? uint32_t(cnt) : pc.shape[0];
    pc.total = uint32_t(cnt * row);
    Grid1D g = grid_1d(s, uint64_t(cnt * row), wg);
    pc.row_stride = g.row_stride;
    pc.a_base = wa.base, pc.b_base = wb.base, pc.o_base = wo.base;
    s.dispatch(p, {wa.ref, wb.ref}, {wo.ref}, pc, g.gx, g.gy);
  }
  return out;
}

Tensor lincomb(vk::Stream& s, const std::vector<Term>& terms, double bias) {
  VKD_OP_CHECK(!terms.empty() && terms.size() <= 6, "lincomb: 1 to 6 terms, got " + std::to_string(terms.size()));
  const Tensor& first = *terms[0].x;
  for (auto& t : terms) {
    VKD_OP_CHECK(t.x && t.x->defined(), "lincomb: undefined tensor");
    VKD_OP_CHECK(t.x->shape() == first.shape() && t.x->dtype() == first.dtype(),
                 "lincomb: " + t.x->str() + " differs from " + first.str());
  }
  VKD_OP_CHECK(first.numel() < (int64_t(1) << 32), "lincomb: tensor too large " + first.str());
  Tensor out = Tensor::empty(s.ctx(), first.shape(), first.dtype());
  const int64_t n = first.numel();
  if (n == 0) return out;
  struct {
    float c[6];
    float bias;
    uint32_t total, row_stride;
    uint32_t base[7];
  } pc{};
  for (size_t k = 0; k < 6; ++k) pc.c[k] = k < terms.size() ? float(terms[k].coef) : 0.0f;
  pc.bias = float(bias);
  const uint32_t wg = 256;
  auto& p = pipeline(s, "elementwise/lincomb", variant_for(s, first.dtype(), false), 7, {wg, 1, 1},
                     {uint32_t(terms.size())});
  const int64_t per = flat_window_elems(s, "lincomb", first);
  for (int64_t e0 = 0; e0 < n; e0 += per) {
    const int64_t cnt = std::min(per, n - e0);
    std::vector<vk::BufferRef> in;
    for (size_t k = 0; k < 6; ++k) {
      Window w = window(s, k < terms.size() ? *terms[k].x : first, e0, cnt);
      in.push_back(w.ref);
      pc.base[k] = w.base;
    }
    Window wo = window(s, out, e0, cnt);
    pc.base[6] = wo.base;
    pc.total = uint32_t(cnt);
    Grid1D g = grid_1d(s, uint64_t(cnt), wg);
    pc.row_stride = g.row_stride;
    s.dispatch(p, in, {wo.ref}, &pc, sizeof(pc), g.gx, g.gy);
  }
  return out;
}

Tensor affine_clamp(vk::Stream& s, const Tensor& x, float mul, float add, float lo, float hi) {
  VKD_OP_CHECK(x.dtype() != DType::I32, "affine_clamp: index tensor " + x.str());
  VKD_OP_CHECK(x.numel() < (int64_t(1) << 32), "affine_clamp: tensor too large " + x.str());
  Tensor out = Tensor::empty(s.ctx(), x.shape(), x.dtype());
  const int64_t n = x.numel();
  if (n == 0) return out;
  struct {
    float mul, add, lo, hi;
    uint32_t total, row_stride, x_base, o_base;
  } pc{mul, add, lo, hi, 0, 0, 0, 0};
  const uint32_t wg = 256;
  auto& p = pipeline(s, "elementwise/affine_clamp", variant_for(s, x.dtype(), false), 2, {wg, 1, 1});
  const int64_t per = flat_window_elems(s, "affine_clamp", x);
  for (int64_t e0 = 0; e0 < n; e0 += per) {
    const int64_t cnt = std::min(per, n - e0);
    Window wx = window(s, x, e0, cnt), wo = window(s, out, e0, cnt);
    Grid1D g = grid_1d(s, uint64_t(cnt), wg);
    pc.total = uint32_t(cnt), pc.row_stride = g.row_stride, pc.x_base = wx.base, pc.o_base = wo.base;
    s.dispatch(p, {wx.ref}, {wo.ref}, pc, g.gx, g.gy);
  }
  return out;
}

}  // namespace vkdream::ops
