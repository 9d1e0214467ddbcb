#include "ops/tile_blend.h"

#include "ops/op_util.h"

namespace vkdream::ops {

void tile_accumulate(vk::Stream& s, const Tensor& acc, const Tensor& weight, const Tensor& tile, int64_t y0,
                     int64_t x0, int64_t feather_y, int64_t feather_x) {
  VKD_OP_CHECK(acc.rank() == 4 && weight.rank() == 4 && tile.rank() == 4 && acc.dim(0) == 1 && tile.dim(0) == 1,
               "tile_accumulate: needs acc [1,C,H,W], weight [1,1,H,W], tile [1,C,h,w], got " + acc.str() + ", " +
                   weight.str() + ", " + tile.str());
  check_same_dtype("tile_accumulate", {&acc, &weight, &tile});
  VKD_OP_CHECK(acc.dtype() == DType::F32, "tile_accumulate: sums are f32, got " + acc.str());
  const int64_t c = tile.dim(1), h = tile.dim(2), w = tile.dim(3), H = acc.dim(2), W = acc.dim(3);
  VKD_OP_CHECK(acc.dim(1) == c && weight.dim(1) == 1 && weight.dim(2) == H && weight.dim(3) == W,
               "tile_accumulate: shapes disagree: acc " + acc.str() + ", weight " + weight.str() + ", tile " + tile.str());
  VKD_OP_CHECK(y0 >= 0 && x0 >= 0 && y0 + h <= H && x0 + w <= W && feather_y >= 0 && feather_x >= 0,
               "tile_accumulate: tile " + tile.str() + " at (" + std::to_string(y0) + ", " + std::to_string(x0) +
                   ") does not fit " + acc.str());
  if (tile.numel() == 0) return;
  const auto& caps = s.ctx().caps();
  VKD_OP_CHECK(acc.bytes() <= caps.max_storage_buffer_range && tile.bytes() <= caps.max_storage_buffer_range,
               "tile_accumulate: tensor exceeds one binding: " + acc.str());
  VKD_OP_CHECK(uint64_t(c) <= caps.max_workgroup_count[2], "tile_accumulate: too many channels: " + tile.str());
  struct {
    uint32_t c, h, w, H, W, y0, x0, feather_y, feather_x;
  } pc{uint32_t(c),  uint32_t(h),  uint32_t(w),         uint32_t(H),        uint32_t(W),
       uint32_t(y0), uint32_t(x0), uint32_t(feather_y), uint32_t(feather_x)};
  auto& p = pipeline(s, "tile/tile_accumulate", vk::Variant::kF32, 3, {16, 8, 1});
  s.dispatch(p, {tile.ref()}, {acc.ref(), weight.ref()}, pc, ceil_div(pc.w, 16), ceil_div(pc.h, 8), pc.c);
}

}  // namespace vkdream::ops
