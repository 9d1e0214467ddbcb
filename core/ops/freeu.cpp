#include "ops/freeu.h"

#include "ops/op_util.h"

namespace vkdream::ops {
namespace {
void check_nchw(const char* op, const Tensor& x) {
  VKD_OP_CHECK(x.rank() == 4, std::string(op) + ": x must be [B, C, H, W], got " + x.str());
  VKD_OP_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F16, std::string(op) + ": f32 or f16, got " + x.str());
  VKD_OP_CHECK(x.numel() < (int64_t(1) << 31), std::string(op) + ": tensor too large " + x.str());
}
}  // namespace

Tensor channel_mean(vk::Stream& s, const Tensor& x) {
  check_nchw("channel_mean", x);
  const int64_t b = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
  Tensor out = Tensor::empty(s.ctx(), {b, 1, x.dim(2), x.dim(3)}, x.dtype());
  if (out.numel() == 0) return out;
  VKD_OP_CHECK(c > 0, "channel_mean: no channels in " + x.str());
  const uint32_t wg = 64;
  Grid1D g = grid_1d(s, uint64_t(b * hw), wg);
  struct {
    uint32_t C, HW, total, row_stride;
  } pc{uint32_t(c), uint32_t(hw), uint32_t(b * hw), g.row_stride};
  auto& p = pipeline(s, "freeu/channel_mean", variant_for(s, x.dtype(), false), 2, {wg, 1, 1});
  s.dispatch(p, {x.ref()}, {out.ref()}, pc, g.gx, g.gy);
  return out;
}

Tensor minmax_normalize(vk::Stream& s, const Tensor& x) {
  check_nchw("minmax_normalize", x);
  Tensor out = Tensor::empty(s.ctx(), x.shape(), x.dtype());
  if (x.numel() == 0) return out;
  struct {
    uint32_t N;
  } pc{uint32_t(x.numel() / x.dim(0))};
  auto& p = pipeline(s, "freeu/minmax_normalize", variant_for(s, x.dtype(), false), 2, {256, 1, 1});
  s.dispatch(p, {x.ref()}, {out.ref()}, pc, uint32_t(x.dim(0)));
  return out;
}

Tensor scale_channels(vk::Stream& s, const Tensor& x, int64_t c_end, const Tensor* map, double mul, double add) {
  check_nchw("scale_channels", x);
  const int64_t b = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
  VKD_OP_CHECK(c_end >= 0 && c_end <= c, "scale_channels: c_end " + std::to_string(c_end) + " outside " + x.str());
  if (map) {
    VKD_OP_CHECK(map->shape() == Shape({b, 1, x.dim(2), x.dim(3)}) && map->dtype() == x.dtype(),
                 "scale_channels: map " + map->str() + " does not match " + x.str());
  }
  Tensor out = Tensor::empty(s.ctx(), x.shape(), x.dtype());
  if (x.numel() == 0) return out;
  const uint32_t wg = 256;
  Grid1D g = grid_1d(s, uint64_t(x.numel()), wg);
  struct {
    uint32_t C, HW, c_end, total, row_stride;
    float mul, add;
  } pc{uint32_t(c), uint32_t(hw), uint32_t(c_end), uint32_t(x.numel()), g.row_stride, float(mul), float(add)};
  auto& p = pipeline(s, "freeu/scale_channels", variant_for(s, x.dtype(), false), 3, {wg, 1, 1},
                     {map ? 1u : 0u});
  s.dispatch(p, {x.ref(), map ? map->ref() : x.ref()}, {out.ref()}, pc, g.gx, g.gy);
  return out;
}

}  // namespace vkdream::ops
