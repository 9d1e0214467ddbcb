#include "ops/softmax.h"

#include <algorithm>

#include "ops/op_util.h"

namespace vkdream::ops {

namespace {
// softmax_texel.comp applies to rows of a multiple of 4 values whose chunks start at offsets a texel view accepts.
bool texel_rows(vk::Stream& s, const Tensor& x, int64_t n, uint64_t row_bytes, int64_t chunk_rows) {
  const auto& caps = s.ctx().caps();
  const bool fmt = x.dtype() == DType::F32 ? caps.storage_texel_rgba32f : caps.storage_texel_rgba16f;
  const uint64_t align = std::max<uint64_t>({caps.min_texel_buffer_offset_alignment, caps.min_storage_offset_alignment, 1});
  return fmt && n % 4 == 0 && row_bytes % align == 0 && x.ref().offset % align == 0 &&
         uint64_t(chunk_rows) * uint64_t(n / 4) <= caps.max_texel_buffer_elements;
}

Tensor softmax_impl(vk::Stream& s, const Tensor& x, bool causal, int64_t block_rows, int64_t first_query,
                    int64_t keys) {
  VKD_OP_CHECK(x.defined(), "softmax: undefined operand");
  VKD_OP_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F16, "softmax: f32 or f16 only, got " + x.str());
  VKD_OP_CHECK(x.rank() >= 1 && x.numel() > 0 && x.dim(-1) > 0, "softmax: empty operand " + x.str());
  VKD_OP_CHECK(x.numel() < (int64_t(1) << 32), "softmax: tensor too large " + x.str());
  const auto& caps = s.ctx().caps();
  const int64_t n = x.dim(-1), rows = x.numel() / n;
  const uint64_t row_bytes = uint64_t(n) * dtype_size(x.dtype());
  VKD_OP_CHECK(row_bytes <= caps.max_storage_buffer_range, "softmax: one row exceeds the binding range: " + x.str());
  Tensor out = Tensor::empty(s.ctx(), x.shape(), x.dtype());
  // Invocations per row: a power of two, about n/4, between 8 and 256 (and the device limit).
  uint32_t wg = 8;
  const uint32_t wg_max = std::min<uint32_t>({256u, caps.max_workgroup_invocations, caps.max_workgroup_size[0]});
  while (wg * 2 <= wg_max && int64_t(wg) * 4 < n) wg *= 2;
  // Rows in chunks that fit one binding.
  int64_t chunk = std::max<int64_t>(1, int64_t(caps.max_storage_buffer_range / row_bytes));
  if (causal) {
    // Chunks hold whole blocks so every chunk's row numbering starts at query first_query.
    VKD_OP_CHECK(chunk >= block_rows, "softmax_causal: one block of rows exceeds the binding range: " + x.str());
    chunk = chunk / block_rows * block_rows;
  }
  const bool texel = texel_rows(s, x, n, row_bytes, std::min(chunk, rows));
  if (texel) {  // one vec4 per invocation and step: a quarter of the invocations
    while (wg > 8 && int64_t(wg) * 16 > n) wg /= 2;
  }
  // On a CPU device each invocation takes a row alone and stores 8 values at once (softmax_lanes.comp): llvmpipe
  // runs a workgroup's subgroups one after another, every barrier of the per-row reduction switches between them,
  // and each workgroup costs about a microsecond. Attention's softmax at 4096 queries: 4096 keys 3.0 s -> 0.75 s,
  // 80 keys 131 -> 18 ms; the 8-wide stores (f32 needs shaderInt64) save about 5% more (its exps dominate).
  const bool lane_rows = texel && n % 8 == 0 && cpu_lanes(s, x.dtype());
  if (lane_rows) wg = 8;
  const VkFormat fmt = texel4_format(x.dtype());
  const char* shader = lane_rows ? "softmax/softmax_lanes" : texel ? "softmax/softmax_texel" : "softmax/softmax";
  auto& p = pipeline(s, shader, variant_for(s, x.dtype(), true), 2, {wg, 1, 1}, {},
                     texel ? std::vector<VkFormat>{fmt} : std::vector<VkFormat>{});
  Tensor x2 = x.reshape({rows, n}), o2 = out.reshape({rows, n});
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t nr = std::min(chunk, rows - r0);
    Tensor xs = nr == rows ? x2 : x2.slice0(r0, nr), os = nr == rows ? o2 : o2.slice0(r0, nr);
    Grid1D g = lane_rows ? grid_1d(s, uint64_t(nr), wg) : grid_1d(s, uint64_t(nr), 1);
    struct {
      uint32_t rows, n, row_stride, causal, block_rows, first_query, keys;
    } pc{uint32_t(nr), uint32_t(n), g.row_stride, causal ? 1u : 0u, uint32_t(block_rows), uint32_t(first_query),
         uint32_t(std::min(keys, n))};
    s.dispatch(p, {xs.ref()}, {os.ref()}, pc, g.gx, g.gy);
  }
  return out;
}
}  // namespace

Tensor softmax(vk::Stream& s, const Tensor& x) { return softmax_impl(s, x, false, 1, 0, x.defined() ? x.dim(-1) : 0); }

Tensor softmax_causal(vk::Stream& s, const Tensor& x, int64_t block_rows, int64_t first_query) {
  VKD_OP_CHECK(block_rows > 0 && first_query >= 0, "softmax_causal: bad block_rows/first_query");
  return softmax_impl(s, x, true, block_rows, first_query, x.defined() ? x.dim(-1) : 0);
}

Tensor softmax_keys(vk::Stream& s, const Tensor& x, int64_t keys, bool causal, int64_t block_rows,
                    int64_t first_query) {
  VKD_OP_CHECK(keys > 0 && block_rows > 0 && first_query >= 0, "softmax_keys: bad keys/block_rows/first_query");
  return softmax_impl(s, x, causal, block_rows, first_query, keys);
}

}  // namespace vkdream::ops
