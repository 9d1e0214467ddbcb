#include "ops/embedding.h"

#include <cmath>
#include <numeric>
#include <string>

#include "ops/op_util.h"

namespace vkdream::ops {

namespace {
constexpr uint32_t kWg = 256;

std::string describe(const Tensor* t) { return t && t->defined() ? t->str() : "none"; }
}  // namespace

Tensor embedding(vk::Stream& s, const Tensor& ids, const Tensor& table, const Tensor* positions) {
  std::string what = "embedding: ids " + describe(&ids) + ", table " + describe(&table) + ", positions " +
                     describe(positions);
  VKD_OP_CHECK(ids.defined() && table.defined(), what + ": undefined tensor");
  VKD_OP_CHECK(ids.dtype() == DType::I32 && ids.rank() == 2, what + ": ids must be i32 [B, L]");
  VKD_OP_CHECK(table.rank() == 2 && (table.dtype() == DType::F32 || table.dtype() == DType::F16),
               what + ": table must be f32/f16 [V, D]");
  const int64_t B = ids.dim(0), L = ids.dim(1), V = table.dim(0), D = table.dim(1);
  VKD_OP_CHECK(V > 0 && D > 0, what + ": empty table");
  bool has_pos = positions && positions->defined();
  if (has_pos) {
    VKD_OP_CHECK(positions->rank() == 2 && positions->dim(1) == D && positions->dim(0) >= L &&
                     positions->dtype() == table.dtype(),
                 what + ": positions must be [Lmax >= L, D] in the table's dtype");
  }
  const auto& caps = s.ctx().caps();
  const uint64_t range = caps.max_storage_buffer_range;
  Tensor out = Tensor::empty(s.ctx(), {B, L, D}, table.dtype());
  VKD_OP_CHECK(out.numel() < (int64_t(1) << 32) && V < (int64_t(1) << 31), what + ": too large");
  VKD_OP_CHECK(out.bytes() <= range && ids.bytes() <= range && (!has_pos || positions->bytes() <= range),
               what + ": ids, positions or output exceed the device's binding range");
  if (out.numel() == 0) return out;

  // Row ranges of the table that each fit one binding and start at an aligned offset.
  const uint64_t row_bytes = uint64_t(D) * dtype_size(table.dtype());
  const uint64_t align = std::max<uint64_t>(1, caps.min_storage_offset_alignment);
  const uint64_t row_step = align / std::gcd(align, row_bytes);  // rows per aligned offset step
  uint64_t rows_per_chunk = std::min<uint64_t>(uint64_t(V), range / row_bytes);
  if (rows_per_chunk < uint64_t(V)) rows_per_chunk = rows_per_chunk / row_step * row_step;
  VKD_OP_CHECK(rows_per_chunk > 0, what + ": one table row does not fit the device's binding range");

  struct {
    uint32_t D, L, V, row_begin, rows, total, row_stride;
  } pc{uint32_t(D), uint32_t(L), uint32_t(V), 0, 0, uint32_t(out.numel()), 0};
  Grid1D g = grid_1d(s, out.numel(), kWg);
  pc.row_stride = g.row_stride;
  auto& p = pipeline(s, "embed/embedding", variant_for(s, table.dtype(), true), 4, {kWg, 1, 1},
                     {has_pos ? 1u : 0u});
  vk::BufferRef pos_ref = has_pos ? positions->ref() : ids.ref();  // unread when there are no positions
  for (uint64_t begin = 0; begin < uint64_t(V); begin += rows_per_chunk) {
    uint64_t rows = std::min<uint64_t>(rows_per_chunk, uint64_t(V) - begin);
    Tensor part = table.slice0(int64_t(begin), int64_t(rows));
    pc.row_begin = uint32_t(begin);
    pc.rows = uint32_t(rows);
    s.dispatch(p, {ids.ref(), part.ref(), pos_ref}, {out.ref()}, pc, g.gx, g.gy);
  }
  return out;
}

Tensor timestep_embedding(vk::Stream& s, const Tensor& t, int dim, float max_period) {
  std::string what = "timestep_embedding: t " + describe(&t) + ", dim " + std::to_string(dim) + ", max_period " +
                     std::to_string(max_period);
  VKD_OP_CHECK(t.defined(), what + ": undefined tensor");
  VKD_OP_CHECK(t.rank() == 1 && (t.dtype() == DType::F32 || t.dtype() == DType::F16), what + ": t must be f32/f16 [B]");
  VKD_OP_CHECK(dim > 0, what + ": dim must be positive");
  VKD_OP_CHECK(max_period > 0 && std::isfinite(max_period), what + ": max_period must be positive");
  Tensor out = Tensor::empty(s.ctx(), {t.dim(0), dim}, t.dtype());
  VKD_OP_CHECK(out.numel() < (int64_t(1) << 32) && out.bytes() <= s.ctx().caps().max_storage_buffer_range,
               what + ": output too large");
  if (out.numel() == 0) return out;
  struct {
    uint32_t dim, half_dim;
    float neg_log_period;
    uint32_t total, row_stride;
  } pc{uint32_t(dim), uint32_t(dim / 2), float(-std::log(double(max_period))), uint32_t(out.numel()), 0};
  Grid1D g = grid_1d(s, out.numel(), kWg);
  pc.row_stride = g.row_stride;
  auto& p = pipeline(s, "embed/timestep", variant_for(s, t.dtype(), false), 2, {kWg, 1, 1});
  s.dispatch(p, {t.ref()}, {out.ref()}, pc, g.gx, g.gy);
  return out;
}

}  // namespace vkdream::ops
