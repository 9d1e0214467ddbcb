#include "ops/row_norm.h"

#include <algorithm>

#include "ops/op_util.h"

namespace vkdream::ops {

Tensor row_l2_norm(vk::Stream& s, const Tensor& x, float eps) {
  VKD_OP_CHECK(x.defined() && x.rank() >= 1, "row_l2_norm: needs a tensor of rank >= 1, got " + x.str());
  VKD_OP_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F16,
               "row_l2_norm: needs an f32 or f16 tensor, got " + x.str());
  const int64_t rows = x.dim(0), cols = rows ? x.numel() / rows : 0;
  Tensor out = Tensor::empty(s.ctx(), {rows}, DType::F32);
  if (rows == 0) return out;
  VKD_OP_CHECK(cols < (int64_t(1) << 31), "row_l2_norm: rows too long in " + x.str());
  const uint32_t wg = 256;
  int64_t per = window_rows(s, "row_l2_norm", std::max<int64_t>(cols, 1), dtype_size(x.dtype()), rows);
  per = std::min<int64_t>(per, s.ctx().caps().max_workgroup_count[0]);
  auto& p = pipeline(s, "reduce/row_l2_norm", variant_for(s, x.dtype(), false), 2, {wg, 1, 1});
  for (int64_t r0 = 0; r0 < rows; r0 += per) {
    const int64_t cnt = std::min(per, rows - r0);
    Window wx = window(s, x, r0 * cols, cnt * cols), wo = window(s, out, r0, cnt);
    struct {
      uint32_t x_base, out_base, cols;
      float eps;
    } pc{wx.base, wo.base, uint32_t(cols), eps};
    s.dispatch(p, {wx.ref}, {wo.ref}, pc, uint32_t(cnt));
  }
  return out;
}

}  // namespace vkdream::ops
