#include "ops/resize.h"

#include <algorithm>
#include <array>
#include <string>

#include "ops/op_util.h"

namespace vkdream::ops {

namespace {

// Records (ceil(w / wx), ceil(h / wy), planes) groups, in several dispatches when the planes exceed
// the device's z group count; `set_offset` stores each dispatch's first plane in the push constants.
template <class PC, class SetOffset>
void dispatch_planes(vk::Stream& s, const vk::Pipeline& p, const Tensor& x, const Tensor& out, PC& pc,
                     std::array<uint32_t, 3> wg, uint64_t w, uint64_t h, uint64_t planes, SetOffset set_offset,
                     const std::string& what) {
  const auto& caps = s.ctx().caps();
  uint64_t gx = (w + wg[0] - 1) / wg[0], gy = (h + wg[1] - 1) / wg[1];
  VKD_OP_CHECK(gx <= caps.max_workgroup_count[0] && gy <= caps.max_workgroup_count[1],
               what + ": plane too large for the device's group counts");
  for (uint64_t p0 = 0; p0 < planes; p0 += caps.max_workgroup_count[2]) {
    set_offset(pc, uint32_t(p0));
    s.dispatch(p, {x.ref()}, {out.ref()}, pc, uint32_t(gx), uint32_t(gy),
               uint32_t(std::min<uint64_t>(caps.max_workgroup_count[2], planes - p0)));
  }
}

void check_input(vk::Stream& s, const char* op, const Tensor& x, const std::string& what) {
  VKD_OP_CHECK(x.defined(), std::string(op) + ": undefined tensor");
  VKD_OP_CHECK(x.rank() == 4, what + ": needs an NCHW tensor");
  VKD_OP_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F16, what + ": needs f32 or f16");
  VKD_OP_CHECK(x.numel() < (int64_t(1) << 32), what + ": tensor too large");
  VKD_OP_CHECK(x.bytes() <= s.ctx().caps().max_storage_buffer_range,
               what + ": input exceeds the device's binding range of " +
                   std::to_string(s.ctx().caps().max_storage_buffer_range) + " bytes");
}

void check_output(vk::Stream& s, const Tensor& out, const std::string& what) {
  VKD_OP_CHECK(out.numel() < (int64_t(1) << 32), what + ": output too large");
  VKD_OP_CHECK(out.bytes() <= s.ctx().caps().max_storage_buffer_range,
               what + ": output exceeds the device's binding range of " +
                   std::to_string(s.ctx().caps().max_storage_buffer_range) + " bytes");
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
  check_input(s, "resize", x, what);
  VKD_OP_CHECK(uint32_t(mode) <= uint32_t(ResizeMode::kArea), what + ": unknown mode " + std::to_string(uint32_t(mode)));
  VKD_OP_CHECK(out_h > 0 && out_w > 0, what + ": output size must be positive");
  int64_t in_h = x.dim(2), in_w = x.dim(3);
  VKD_OP_CHECK(in_h > 0 && in_w > 0, what + ": empty input plane");
  // The area windows use (i + 1) * in in 32 bits.
  VKD_OP_CHECK(in_h < 65536 && in_w < 65536 && out_h < 65536 && out_w < 65536, what + ": sides must be < 65536");
  Tensor out = Tensor::empty(s.ctx(), {x.dim(0), x.dim(1), out_h, out_w}, x.dtype());
  check_output(s, out, what);
  if (out.numel() == 0) return out;
  struct PC {
    uint32_t in_h, in_w, out_h, out_w;
    float scale_h, scale_w;
    uint32_t plane_offset;
  } pc{uint32_t(in_h), uint32_t(in_w), uint32_t(out_h), uint32_t(out_w),
       // PyTorch's scale when only sizes are given: (float)in / out, rounded to f32.
       float(in_h) / float(out_h), float(in_w) / float(out_w), 0};
  auto wg = wg_2d(uint64_t(out_w));
  auto& p = pipeline(s, "resize/resize", variant_for(s, x.dtype(), false), 2, wg, {uint32_t(mode)});
  dispatch_planes(s, p, x, out, pc, wg, uint64_t(out_w), uint64_t(out_h), uint64_t(x.dim(0) * x.dim(1)),
                  [](PC& c, uint32_t p0) { c.plane_offset = p0; }, what);
  return out;
}

Tensor upsample_nearest2x(vk::Stream& s, const Tensor& x) {
  std::string what = std::string("upsample_nearest2x: ") + (x.defined() ? x.str() : "undefined");
  check_input(s, "upsample_nearest2x", x, what);
  Tensor out = Tensor::empty(s.ctx(), {x.dim(0), x.dim(1), 2 * x.dim(2), 2 * x.dim(3)}, x.dtype());
  check_output(s, out, what);
  if (x.numel() == 0) return out;
  struct PC {
    uint32_t H, W, plane_offset;
  } pc{uint32_t(x.dim(2)), uint32_t(x.dim(3)), 0};
  auto wg = wg_2d(uint64_t(x.dim(3)));
  auto& p = pipeline(s, "resize/upsample_nearest2x", variant_for(s, x.dtype(), true), 2, wg);
  dispatch_planes(s, p, x, out, pc, wg, uint64_t(x.dim(3)), uint64_t(x.dim(2)), uint64_t(x.dim(0) * x.dim(1)),
                  [](PC& c, uint32_t p0) { c.plane_offset = p0; }, what);
  return out;
}

}  // namespace vkdream::ops
