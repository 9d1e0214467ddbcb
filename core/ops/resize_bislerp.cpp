#include "ops/resize_bislerp.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "ops/activation.h"
#include "ops/op_util.h"

namespace vkdream::ops {

namespace {

// PyTorch's CPU upsample_bilinear2d (align_corners=False, sizes given) of the row v along one axis, output
// index dst, in f32: compute_source_index_and_lambda then v[i0] * lambda0 + v[i1] * lambda1.
template <class V>
float torch_bilinear_1d(int64_t in, int64_t out, int64_t dst, V v) {
  if (in == out) return v(dst) * 1.0f + v(dst) * 0.0f;  // PyTorch's same-size shortcut (lambda 1, 0)
  float scale = float(in) / float(out);
  float src = std::max(scale * (float(dst) + 0.5f) - 0.5f, 0.0f);
  int64_t i0 = std::min(int64_t(std::floor(src)), in - 1);
  float lambda1 = std::min(std::max(src - float(i0), 0.0f), 1.0f);
  float lambda0 = 1.0f - lambda1;
  int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
  float a = v(i0) * lambda0;  // separate roundings (no fused multiply-add)
  float b = v(i1) * lambda1;
  return a + b;
}

}  // namespace

BislerpAxis bislerp_axis(int64_t in_size, int64_t out_size) {
  BislerpAxis a;
  auto coords_1 = [](int64_t i) { return float(i); };
  auto coords_2 = [in_size](int64_t i) { return i == in_size - 1 ? float(i) : float(i + 1); };
  for (int64_t i = 0; i < out_size; ++i) {
    float v1 = torch_bilinear_1d(in_size, out_size, i, coords_1);
    float v2 = torch_bilinear_1d(in_size, out_size, i, coords_2);
    a.c1.push_back(int32_t(v1));  // .to(torch.int64) truncates; the values are >= 0
    a.c2.push_back(int32_t(v2));
    a.ratio.push_back(v1 - std::floor(v1));
  }
  return a;
}

Tensor resize_bislerp(vk::Stream& s, const Tensor& x, int64_t out_h, int64_t out_w) {
  std::string what = std::string("resize_bislerp: ") + (x.defined() ? x.str() : "undefined") + " to " +
                     std::to_string(out_h) + "x" + std::to_string(out_w);
  VKD_OP_CHECK(x.defined(), what);
  VKD_OP_CHECK(x.rank() == 4, what + ": needs an NCHW tensor");
  VKD_OP_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F16, what + ": needs f32 or f16");
  VKD_OP_CHECK(out_h > 0 && out_w > 0, what + ": output size must be positive");
  const int64_t N = x.dim(0), C = x.dim(1), in_h = x.dim(2), in_w = x.dim(3);
  VKD_OP_CHECK(in_h > 0 && in_w > 0, what + ": empty input plane");
  VKD_OP_CHECK(in_h < 65536 && in_w < 65536 && out_h < 65536 && out_w < 65536, what + ": sides must be < 65536");
  if (N == 0 || C == 0) return Tensor::empty(s.ctx(), {N, C, out_h, out_w}, x.dtype());
  const auto& caps = s.ctx().caps();
  Tensor src = x.dtype() == DType::F32 ? x : cast(s, x, DType::F32);
  Tensor mid = Tensor::empty(s.ctx(), {N, C, in_h, out_w}, DType::F32);
  Tensor out = Tensor::empty(s.ctx(), {N, C, out_h, out_w}, DType::F32);
  for (const Tensor* t : {&src, &mid, &out})
    VKD_OP_CHECK(t->numel() < (int64_t(1) << 32) && t->bytes() <= caps.max_storage_buffer_range,
                 what + ": a tensor exceeds the device's binding range of " +
                     std::to_string(caps.max_storage_buffer_range) + " bytes");

  struct PC {
    uint32_t in_h, in_w, out_h, out_w, channels, batch_offset;
  };
  // Pass 1 along the width: [N, C, in_h, in_w] -> [N, C, in_h, out_w]; pass 2 along the height.
  const struct {
    bool vertical;
    const Tensor *in, *dst;
    int64_t axis_in, axis_out;
    PC pc;
  } passes[] = {
      {false, &src, &mid, in_w, out_w,
       {uint32_t(in_h), uint32_t(in_w), uint32_t(in_h), uint32_t(out_w), uint32_t(C), 0}},
      {true, &mid, &out, in_h, out_h,
       {uint32_t(in_h), uint32_t(out_w), uint32_t(out_h), uint32_t(out_w), uint32_t(C), 0}},
  };
  for (const auto& p : passes) {
    BislerpAxis axis = bislerp_axis(p.axis_in, p.axis_out);
    std::vector<int32_t> table(size_t(p.axis_out) * 3);
    for (size_t i = 0; i < size_t(p.axis_out); ++i) {
      table[3 * i] = axis.c1[i];
      table[3 * i + 1] = axis.c2[i];
      std::memcpy(&table[3 * i + 2], &axis.ratio[i], 4);
    }
    Tensor coeffs = Tensor::empty(s.ctx(), {int64_t(table.size())}, DType::I32);
    s.upload(coeffs.ref(), table.data(), table.size() * 4);
    PC pc = p.pc;
    auto wg = wg_2d(pc.out_w);
    auto& pipe = pipeline(s, "resize/bislerp", variant_for(s, DType::F32, false), 3, wg, {p.vertical ? 1u : 0u});
    uint64_t gx = (uint64_t(pc.out_w) + wg[0] - 1) / wg[0], gy = (uint64_t(pc.out_h) + wg[1] - 1) / wg[1];
    VKD_OP_CHECK(gx <= caps.max_workgroup_count[0] && gy <= caps.max_workgroup_count[1],
                 what + ": plane too large for the device's group counts");
    for (uint64_t b0 = 0; b0 < uint64_t(N); b0 += caps.max_workgroup_count[2]) {
      pc.batch_offset = uint32_t(b0);
      s.dispatch(pipe, {p.in->ref(), coeffs.ref()}, {p.dst->ref()}, pc, uint32_t(gx), uint32_t(gy),
                 uint32_t(std::min<uint64_t>(caps.max_workgroup_count[2], uint64_t(N) - b0)));
    }
  }
  return x.dtype() == DType::F32 ? out : cast(s, out, x.dtype());
}

}  // namespace vkdream::ops
