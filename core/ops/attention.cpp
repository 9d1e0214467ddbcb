#include "ops/attention.h"

#include <algorithm>
#include <cmath>

#include "ops/op_util.h"

namespace vkdream::ops {

namespace {

constexpr int64_t kMaxHeadDim = 256;

std::string operands(const Tensor& q, const Tensor& k, const Tensor& v, int heads) {
  return "q " + q.str() + ", k " + k.str() + ", v " + v.str() + ", heads " + std::to_string(heads);
}

struct AttnPush {
  uint32_t lq, lk, hd;
  float scale_log2e;
  uint32_t causal;
};

}  // namespace

Tensor attention(vk::Stream& s, const Tensor& q, const Tensor& k, const Tensor& v, int heads, bool causal,
                 float scale) {
  const std::string what = operands(q, k, v, heads);
  VKD_OP_CHECK(q.defined() && k.defined() && v.defined(), "attention: undefined operand");
  check_same_dtype("attention", {&q, &k, &v});
  VKD_OP_CHECK(q.dtype() == DType::F32 || q.dtype() == DType::F16, "attention: f32 or f16 tensors only: " + what);
  VKD_OP_CHECK(q.rank() == 3 && k.rank() == 3 && v.rank() == 3, "attention: q, k, v must be [B, L, H*D]: " + what);
  VKD_OP_CHECK(k.shape() == v.shape(), "attention: k and v shapes differ: " + what);
  VKD_OP_CHECK(q.dim(0) == k.dim(0), "attention: batch of q and k differ: " + what);
  VKD_OP_CHECK(q.dim(2) == k.dim(2), "attention: channels of q and k differ: " + what);
  VKD_OP_CHECK(heads > 0 && q.dim(2) % heads == 0, "attention: channels not divisible by heads: " + what);
  const int64_t B = q.dim(0), Lq = q.dim(1), Lk = k.dim(1), HD = q.dim(2), D = HD / heads;
  VKD_OP_CHECK(B > 0 && Lq > 0 && Lk > 0 && D > 0, "attention: empty operand: " + what);
  VKD_OP_CHECK(!(scale < 0.0f) && std::isfinite(scale), "attention: scale must be > 0 (or 0 for 1/sqrt(D)): " + what);
  VKD_OP_CHECK(B * std::max(Lq, Lk) * HD < (int64_t(1) << 32), "attention: tensors too large to index: " + what);

  const auto& caps = s.ctx().caps();
  // Keys per tile: two float tiles of BK x DP must fit the device's shared memory.
  const uint32_t dp = uint32_t((D + 7) / 8 * 8);
  uint32_t bk = std::min<uint32_t>(64, caps.max_shared_memory / (2u * 4u * dp) / 8u * 8u);
  VKD_OP_CHECK(D <= kMaxHeadDim && bk >= 8,
               "attention: head dim " + std::to_string(D) + " too large for this device: " + what);
  // Query rows per workgroup.
  uint32_t wg = std::min<uint32_t>({64u, caps.max_workgroup_invocations, caps.max_workgroup_size[0]});
  VKD_OP_CHECK(uint64_t(heads) <= caps.max_workgroup_count[1] && uint64_t(B) <= caps.max_workgroup_count[2] &&
                   ceil_div(uint64_t(Lq), wg) <= caps.max_workgroup_count[0],
               "attention: grid exceeds the device's workgroup count limits: " + what);

  const float sc = scale > 0.0f ? scale : float(1.0 / std::sqrt(double(D)));
  Tensor out = Tensor::empty(s.ctx(), q.shape(), q.dtype());
  AttnPush pc{uint32_t(Lq), uint32_t(Lk), uint32_t(HD), float(double(sc) * 1.4426950408889634), causal ? 1u : 0u};
  auto& p = pipeline(s, "attention/flash", variant_for(s, q.dtype(), true), 4, {wg, 1, 1},
                     {uint32_t(D), dp, bk});

  // One binding may see at most max_storage_buffer_range bytes: split the batch when needed.
  const uint64_t range = caps.max_storage_buffer_range;
  const uint64_t per_batch = uint64_t(std::max(Lq, Lk)) * uint64_t(HD) * dtype_size(q.dtype());
  VKD_OP_CHECK(per_batch <= range, "attention: one batch exceeds the device's binding range: " + what);
  const int64_t chunk = std::max<int64_t>(1, int64_t(range / per_batch));
  for (int64_t b0 = 0; b0 < B; b0 += chunk) {
    const int64_t nb = std::min(chunk, B - b0);
    if (nb == B) {
      s.dispatch(p, {q.ref(), k.ref(), v.ref()}, {out.ref()}, pc, ceil_div(uint64_t(Lq), wg), uint32_t(heads),
                 uint32_t(B));
    } else {
      Tensor qs = q.slice0(b0, nb), ks = k.slice0(b0, nb), vs = v.slice0(b0, nb), os = out.slice0(b0, nb);
      for (const Tensor* t : {&qs, &ks, &vs, &os})
        VKD_OP_CHECK(t->ref().offset % caps.min_storage_offset_alignment == 0,
                     "attention: batch slice misaligned for splitting: " + what);
      s.dispatch(p, {qs.ref(), ks.ref(), vs.ref()}, {os.ref()}, pc, ceil_div(uint64_t(Lq), wg), uint32_t(heads),
                 uint32_t(nb));
    }
  }
  return out;
}

}  // namespace vkdream::ops
