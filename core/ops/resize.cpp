#include "ops/resize.h"

#include <algorithm>
#include <array>
#include <string>

#include "ops/op_util.h"

namespace vkdream::ops {

namespace {

// Records (ceil(w / wx), ceil(h / wy), planes) groups over windows of whole planes that each fit one
// binding (tensors may be larger than the device's binding range), and within a window in several
// dispatches when its planes exceed the device's z group count. `set` stores each dispatch's first
// plane (relative to its window) and both windows' base offsets in the push constants.
template <class PC, class Set>
void dispatch_planes(vk::Stream& s, const vk::Pipeline& p, const Tensor& x, const Tensor& out, PC& pc,
                     std::array<uint32_t, 3> wg, uint64_t w, uint64_t h, uint64_t planes, Set set,
                     const std::string& what) {
  const auto& caps = s.ctx().caps();
  uint64_t gx = (w + wg[0] - 1) / wg[0], gy = (h + wg[1] - 1) / wg[1];
  VKD_OP_CHECK(gx <= caps.max_workgroup_count[0] && gy <= caps.max_workgroup_count[1],
               what + ": plane too large for the device's group counts");
  const int64_t in_plane = x.dim(2) * x.dim(3), out_plane = out.dim(2) * out.dim(3);
  const int64_t per = window_rows(s, what, std::max(in_plane, out_plane), dtype_size(x.dtype()), int64_t(planes));
  for (int64_t w0 = 0; w0 < int64_t(planes); w0 += per) {
    const int64_t n = std::min<int64_t>(per, int64_t(planes) - w0);
    Window wx = window(s, x, w0 * in_plane, n * in_plane), wy = window(s, out, w0 * out_plane, n * out_plane);
    for (uint64_t p0 = 0; p0 < uint64_t(n); p0 += caps.max_workgroup_count[2]) {
      set(pc, uint32_t(p0), wx.base, wy.base);
      s.dispatch(p, {wx.ref}, {wy.ref}, pc, uint32_t(gx), uint32_t(gy),
                 uint32_t(std::min<uint64_t>(caps.max_workgroup_count[2], uint64_t(n) - p0)));
    }
  }
}

void check_input(const char* op, const Tensor& x, const std::string& what) {
  VKD_OP_CHECK(x.defined(), std::string(op) + ": undefined tensor");
  VKD_OP_CHECK(x.rank() == 4, what + ": needs an NCHW tensor");
  VKD_OP_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F16, what + ": needs f32 or f16");
}
}  // namespace

const char* resize_mode_name(ResizeMode m) {
  switch (m) {
    case ResizeMode::kNearest: return "nearest";
    case ResizeMode::kNearestExact: return "nearest-exact";
    case ResizeMode::kBilinear: return "bilinear";
    case ResizeMode::kBicubic: return "bicubic";
    case ResizeMode::kArea: return "area";
  }
  return "?";
}

Tensor resize(vk::Stream& s, const Tensor& x, int64_t out_h, int64_t out_w, ResizeMode mode) {
  std::string what = std::string("resize: ") + (x.defined() ? x.str() : "undefined") + " to " +
                     std::to_string(out_h) + "x" + std::to_string(out_w) + " (" + resize_mode_name(mode) + ")";
  check_input("resize", x, what);
  VKD_OP_CHECK(uint32_t(mode) <= uint32_t(ResizeMode::kArea), what + ": unknown mode " + std::to_string(uint32_t(mode)));
  VKD_OP_CHECK(out_h > 0 && out_w > 0, what + ": output size must be positive");
  int64_t in_h = x.dim(2), in_w = x.dim(3);
  VKD_OP_CHECK(in_h > 0 && in_w > 0, what + ": empty input plane");
  // The area windows use (i + 1) * in in 32 bits.
  VKD_OP_CHECK(in_h < 65536 && in_w < 65536 && out_h < 65536 && out_w < 65536, what + ": sides must be < 65536");
  Tensor out = Tensor::empty(s.ctx(), {x.dim(0), x.dim(1), out_h, out_w}, x.dtype());
  if (out.numel() == 0) return out;
  struct PC {
    uint32_t in_h, in_w, out_h, out_w;
    float scale_h, scale_w;
    uint32_t plane_offset, x_base, y_base;
  } pc{uint32_t(in_h), uint32_t(in_w), uint32_t(out_h), uint32_t(out_w),
       // PyTorch's scale when only sizes are given: (float)in / out, rounded to f32.
       float(in_h) / float(out_h), float(in_w) / float(out_w), 0, 0, 0};
  auto wg = wg_2d(uint64_t(out_w));
  auto& p = pipeline(s, "resize/resize", variant_for(s, x.dtype(), false), 2, wg, {uint32_t(mode)});
  dispatch_planes(s, p, x, out, pc, wg, uint64_t(out_w), uint64_t(out_h), uint64_t(x.dim(0) * x.dim(1)),
                  [](PC& c, uint32_t p0, uint32_t xb, uint32_t yb) { c.plane_offset = p0, c.x_base = xb, c.y_base = yb; },
                  what);
  return out;
}

Tensor upsample_nearest2x(vk::Stream& s, const Tensor& x) {
  std::string what = std::string("upsample_nearest2x: ") + (x.defined() ? x.str() : "undefined");
  check_input("upsample_nearest2x", x, what);
  Tensor out = Tensor::empty(s.ctx(), {x.dim(0), x.dim(1), 2 * x.dim(2), 2 * x.dim(3)}, x.dtype());
  if (x.numel() == 0) return out;
  struct PC {
    uint32_t H, W, plane_offset, x_base, y_base;
  } pc{uint32_t(x.dim(2)), uint32_t(x.dim(3)), 0, 0, 0};
  auto wg = wg_2d(uint64_t(x.dim(3)));
  auto& p = pipeline(s, "resize/upsample_nearest2x", variant_for(s, x.dtype(), true), 2, wg);
  dispatch_planes(s, p, x, out, pc, wg, uint64_t(x.dim(3)), uint64_t(x.dim(2)), uint64_t(x.dim(0) * x.dim(1)),
                  [](PC& c, uint32_t p0, uint32_t xb, uint32_t yb) { c.plane_offset = p0, c.x_base = xb, c.y_base = yb; },
                  what);
  return out;
}

}  // namespace vkdream::ops
