#include "ops/layout.h"

#include <algorithm>
#include <array>
#include <string>

#include "ops/op_util.h"

namespace vkdream::ops {

namespace {

constexpr uint32_t kTile = 32;  // transpose tile edge; the workgroup is kTile x kTileRows
constexpr uint32_t kTileRows = 4;  // 128 invocations: the smallest maxComputeWorkGroupInvocations

// [B, R, C] -> [B, C, R] on a CPU device through transpose_texel.comp (blocks of 8 x 4 values: texel reads, 8-wide
// stores) where the shapes and the device allow; false: use the tiled transpose.
bool transpose_texel(vk::Stream& s, const Tensor& x, const Tensor& out, uint64_t B, uint64_t R, uint64_t C) {
  if (R % 8 || C % 4 || !cpu_lanes(s, x.dtype()) || !texel4_view(s, x.ref(), x.dtype())) return false;
  const uint64_t total = B * (R / 8) * (C / 4);
  if (total >= (uint64_t(1) << 32)) return false;
  constexpr uint32_t kWG = 64;
  Grid1D g = grid_1d(s, total, kWG);
  struct {
    uint32_t R, C, total, row_stride;
  } pc{uint32_t(R), uint32_t(C), uint32_t(total), g.row_stride};
  auto& p = pipeline(s, "layout/transpose_texel", variant_for(s, x.dtype(), true), 2, {kWG, 1, 1}, {},
                     {texel4_format(x.dtype())});
  s.dispatch(p, {x.ref()}, {out.ref()}, pc, g.gx, g.gy);
  return true;
}

std::string perm_str(const std::vector<int>& perm) {
  std::string s = "{";
  for (size_t i = 0; i < perm.size(); ++i) s += (i ? ", " : "") + std::to_string(perm[i]);
  return s + "}";
}

void check_float(const char* op, const Tensor& t) {
  VKD_OP_CHECK(t.defined(), std::string(op) + ": undefined tensor");
  VKD_OP_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F16,
               std::string(op) + ": needs an f32 or f16 tensor, got " + t.str());
}

// Every tensor a shader binds must fit one binding and be indexable with 32-bit indices.
void check_bindable(vk::Stream& s, const char* op, const Tensor& t) {
  VKD_OP_CHECK(t.numel() < (int64_t(1) << 32), std::string(op) + ": tensor too large " + t.str());
  VKD_OP_CHECK(t.bytes() <= s.ctx().caps().max_storage_buffer_range,
               std::string(op) + ": " + t.str() + " exceeds the device's binding range of " +
                   std::to_string(s.ctx().caps().max_storage_buffer_range) + " bytes");
}

// The exact byte range [elem_begin, elem_begin + elems) of t (ref() rounds sizes up to 4 bytes).
vk::BufferRef byte_range(const Tensor& t, int64_t elem_begin, int64_t elems) {
  vk::BufferRef r = t.ref();
  r.offset += uint64_t(elem_begin) * dtype_size(t.dtype());
  r.size = uint64_t(elems) * dtype_size(t.dtype());
  return r;
}

// Rows of at most this many runs are copied with one buffer copy each (a memcpy on CPU devices).
constexpr uint64_t kMaxCopyRuns = 32;

// dst[o * dst_stride + dst_off + j] = src[o * src_stride + src_off + j] for o < outer, j < len.
void copy_rows(vk::Stream& s, const char* op, const Tensor& src, const Tensor& dst, uint64_t outer, uint64_t len,
               uint64_t src_stride, uint64_t src_off, uint64_t dst_stride, uint64_t dst_off) {
  uint64_t total = outer * len;
  if (total == 0) return;
  const size_t es = dtype_size(src.dtype());
  if (outer == 1 || (src_stride == len && dst_stride == len)) {  // one contiguous run
    s.copy(byte_range(src, int64_t(src_off), int64_t(total)), byte_range(dst, int64_t(dst_off), int64_t(total)),
           size_t(total) * es);
    return;
  }
  if (outer <= kMaxCopyRuns) {  // a few long runs: buffer copies, disjoint, so no barriers between them
    for (uint64_t o = 0; o < outer; ++o)
      s.copy(byte_range(src, int64_t(o * src_stride + src_off), int64_t(len)),
             byte_range(dst, int64_t(o * dst_stride + dst_off), int64_t(len)), size_t(len) * es);
    return;
  }
  check_bindable(s, op, src);
  check_bindable(s, op, dst);
  const auto& caps = s.ctx().caps();
  auto wg = wg_2d(len);
  // Each dispatch covers a block of [rows) x [cols) that fits the group-count limits.
  const uint64_t max_cols = uint64_t(caps.max_workgroup_count[0]) * wg[0];
  const uint64_t rows_per_z = std::min<uint64_t>(outer, uint64_t(caps.max_workgroup_count[1]) * wg[1]);
  const uint64_t max_rows = rows_per_z * caps.max_workgroup_count[2];
  auto& p = pipeline(s, "layout/copy_rows", variant_for(s, src.dtype(), true), 2, wg);
  for (uint64_t r0 = 0; r0 < outer; r0 += max_rows)
    for (uint64_t j0 = 0; j0 < len; j0 += max_cols) {
      uint64_t rows = std::min(max_rows, outer - r0), cols = std::min(max_cols, len - j0);
      struct {
        uint32_t len, rows, src_stride, src_offset, dst_stride, dst_offset, rows_per_z;
      } pc{uint32_t(cols), uint32_t(rows), uint32_t(src_stride), uint32_t(src_off + r0 * src_stride + j0),
           uint32_t(dst_stride), uint32_t(dst_off + r0 * dst_stride + j0), uint32_t(rows_per_z)};
      s.dispatch(p, {src.ref()}, {dst.ref()}, pc, ceil_div(cols, wg[0]), ceil_div(std::min(rows, rows_per_z), wg[1]),
                 ceil_div(rows, rows_per_z));
    }
}

}  // namespace

Tensor copy(vk::Stream& s, const Tensor& x) {
  VKD_OP_CHECK(x.defined(), "copy: undefined tensor");
  Tensor out = Tensor::empty(s.ctx(), x.shape(), x.dtype());
  if (x.numel() > 0) s.copy(byte_range(x, 0, x.numel()), byte_range(out, 0, x.numel()), x.bytes());
  return out;
}

Tensor concat(vk::Stream& s, const std::vector<Tensor>& parts, int dim) {
  VKD_OP_CHECK(!parts.empty(), "concat: no tensors to join");
  std::string shapes;
  for (size_t i = 0; i < parts.size(); ++i) {
    check_float("concat", parts[i]);
    shapes += (i ? ", " : "") + parts[i].str();
  }
  const Tensor& first = parts[0];
  int rank = first.rank();
  int d = dim < 0 ? dim + rank : dim;
  VKD_OP_CHECK(rank > 0 && d >= 0 && d < rank,
               "concat: dim " + std::to_string(dim) + " out of range for " + shapes);
  Shape os = first.shape();
  os[d] = 0;
  for (auto& p : parts) {
    bool ok = p.rank() == rank && p.dtype() == first.dtype();
    for (int i = 0; ok && i < rank; ++i) ok = i == d || p.dim(i) == first.dim(i);
    VKD_OP_CHECK(ok, "concat: on dim " + std::to_string(dim) + " the other dims and dtypes must match: " + shapes);
    os[d] += p.dim(d);
  }
  Tensor out = Tensor::empty(s.ctx(), os, first.dtype());
  uint64_t outer = 1, after = 1;
  for (int i = 0; i < d; ++i) outer *= uint64_t(os[i]);
  for (int i = d + 1; i < rank; ++i) after *= uint64_t(os[i]);
  uint64_t out_len = uint64_t(os[d]) * after, at = 0;
  for (auto& p : parts) {
    uint64_t len = uint64_t(p.dim(d)) * after;
    copy_rows(s, "concat", p, out, outer, len, len, 0, out_len, at);
    at += len;
  }
  return out;
}

Tensor slice(vk::Stream& s, const Tensor& x, int dim, int64_t begin, int64_t end) {
  check_float("slice", x);
  int rank = x.rank();
  int d = dim < 0 ? dim + rank : dim;
  VKD_OP_CHECK(rank > 0 && d >= 0 && d < rank,
               "slice: dim " + std::to_string(dim) + " out of range for " + x.str());
  VKD_OP_CHECK(begin >= 0 && begin <= end && end <= x.dim(d),
               "slice: [" + std::to_string(begin) + ", " + std::to_string(end) + ") on dim " + std::to_string(dim) +
                   " out of range for " + x.str());
  Shape os = x.shape();
  os[d] = end - begin;
  Tensor out = Tensor::empty(s.ctx(), os, x.dtype());
  uint64_t outer = 1, after = 1;
  for (int i = 0; i < d; ++i) outer *= uint64_t(os[i]);
  for (int i = d + 1; i < rank; ++i) after *= uint64_t(os[i]);
  uint64_t len = uint64_t(end - begin) * after;
  copy_rows(s, "slice", x, out, outer, len, uint64_t(x.dim(d)) * after, uint64_t(begin) * after, len, 0);
  return out;
}

Tensor permute(vk::Stream& s, const Tensor& x, const std::vector<int>& perm) {
  check_float("permute", x);
  int rank = x.rank();
  std::string what = "permute: " + x.str() + " by " + perm_str(perm);
  VKD_OP_CHECK(rank <= 4, what + ": at most 4 dims");
  VKD_OP_CHECK(int(perm.size()) == rank, what + ": needs one entry per dim");
  std::vector<bool> seen(size_t(rank), false);
  for (int p : perm) {
    VKD_OP_CHECK(p >= 0 && p < rank && !seen[size_t(p)], what + ": not a permutation");
    seen[size_t(p)] = true;
  }
  Shape os(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i) os[size_t(i)] = x.dim(perm[size_t(i)]);
  Tensor out = Tensor::empty(s.ctx(), os, x.dtype());
  if (x.numel() == 0) return out;
  check_bindable(s, "permute", x);

  // Collapse: drop size-1 axes, then merge runs of input axes that stay adjacent and in order.
  std::vector<int> rank_of(size_t(rank), -1);  // input axis -> index among kept axes
  std::vector<int64_t> kept_size;
  for (int a = 0; a < rank; ++a)
    if (x.dim(a) > 1) {
      rank_of[size_t(a)] = int(kept_size.size());
      kept_size.push_back(x.dim(a));
    }
  std::vector<int> q;  // kept axes in output order
  for (int p : perm)
    if (rank_of[size_t(p)] >= 0) q.push_back(rank_of[size_t(p)]);
  std::vector<std::pair<int, int64_t>> groups;  // (first kept axis, size) in output order
  for (size_t k = 0; k < q.size(); ++k) {
    if (k > 0 && q[k] == q[k - 1] + 1) groups.back().second *= kept_size[size_t(q[k])];
    else groups.push_back({q[k], kept_size[size_t(q[k])]});
  }
  size_t n = groups.size();
  if (n <= 1) return copy(s, x).reshape(os);
  // Collapsed input: the groups ordered by their first axis; cperm[i] = input position of output group i.
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return groups[a].first < groups[b].first; });
  std::vector<int64_t> cin(n);
  std::vector<int> cperm(n);
  for (size_t pos = 0; pos < n; ++pos) {
    cin[pos] = groups[order[pos]].second;
    cperm[order[pos]] = int(pos);
  }

  const auto& caps = s.ctx().caps();
  // [B, R, C] -> [B, C, R] (or [R, C] -> [C, R]): a tiled transpose.
  bool t2 = n == 2 && cperm[0] == 1;
  bool t3 = n == 3 && cperm[0] == 0 && cperm[1] == 2 && cperm[2] == 1;
  if (t2 || t3) {
    uint64_t B = t3 ? uint64_t(cin[0]) : 1, R = uint64_t(cin[n - 2]), C = uint64_t(cin[n - 1]);
    if (transpose_texel(s, x, out, B, R, C)) return out;
    uint64_t gx = (C + kTile - 1) / kTile, gy = (R + kTile - 1) / kTile;
    if (gx <= caps.max_workgroup_count[0] && gy <= caps.max_workgroup_count[1] && B <= caps.max_workgroup_count[2]) {
      struct {
        uint32_t R, C;
      } pc{uint32_t(R), uint32_t(C)};
      auto& p = pipeline(s, "layout/transpose", variant_for(s, x.dtype(), true), 2, {kTile, kTileRows, 1}, {kTile});
      s.dispatch(p, {x.ref()}, {out.ref()}, pc, uint32_t(gx), uint32_t(gy), uint32_t(B));
      return out;
    }
  }
  // General gather over the collapsed dims (right-aligned into 4); the grid gives the inner two.
  std::vector<uint64_t> in_stride(n);
  uint64_t st = 1;
  for (size_t i = n; i-- > 0;) {
    in_stride[i] = st;
    st *= uint64_t(cin[i]);
  }
  struct {
    uint32_t shape[4];
    uint32_t st[4];
    uint32_t z_offset, y_offset, x_offset;
  } pc{};
  for (int i = 0; i < 4; ++i) {
    pc.shape[i] = 1;
    pc.st[i] = 0;
  }
  for (size_t i = 0; i < n; ++i) {
    size_t slot = 4 - n + i;
    pc.shape[slot] = uint32_t(cin[size_t(cperm[i])]);
    pc.st[slot] = uint32_t(in_stride[size_t(cperm[i])]);
  }
  // The innermost dim kept in place and a multiple of 4: move vec4s (permute_vec4.comp).
  const uint64_t vec_bytes = 4 * dtype_size(x.dtype());
  const bool vec4 = cperm[n - 1] == int(n - 1) && cin[n - 1] % 4 == 0 && x.ref().offset % vec_bytes == 0 &&
                    out.ref().offset % vec_bytes == 0;
  // On a CPU device with the innermost dim a multiple of 8: 8 values per invocation (permute_lanes.comp: texel
  // reads, 8-wide stores; attention's head split and merge at 256x256 took 329 ms per UNet step as vec4s).
  const bool lanes = vec4 && cin[n - 1] % 8 == 0 && cpu_lanes(s, x.dtype()) && texel4_view(s, x.ref(), x.dtype()) &&
                     out.ref().offset % (8 * dtype_size(x.dtype())) == 0;
  if (vec4) {
    pc.shape[3] /= lanes ? 8 : 4;
    // In vec4s (texels): the innermost dim keeps stride 1, every other stride is a multiple of the innermost size.
    for (int i = 0; i < 3; ++i) pc.st[i] /= 4;
  }
  auto wg = wg_2d(pc.shape[3]);
  const uint64_t max_x = uint64_t(caps.max_workgroup_count[0]) * wg[0];
  const uint64_t max_y = uint64_t(caps.max_workgroup_count[1]) * wg[1];
  const uint64_t max_z = caps.max_workgroup_count[2];
  const uint64_t Z = uint64_t(pc.shape[0]) * pc.shape[1];
  auto& p = lanes ? pipeline(s, "layout/permute_lanes", variant_for(s, x.dtype(), true), 2, wg, {},
                             {texel4_format(x.dtype())})
                  : pipeline(s, vec4 ? "layout/permute_vec4" : "layout/permute", variant_for(s, x.dtype(), true), 2, wg);
  for (uint64_t z0 = 0; z0 < Z; z0 += max_z)
    for (uint64_t y0 = 0; y0 < pc.shape[2]; y0 += max_y)
      for (uint64_t x0 = 0; x0 < pc.shape[3]; x0 += max_x) {
        pc.z_offset = uint32_t(z0);
        pc.y_offset = uint32_t(y0);
        pc.x_offset = uint32_t(x0);
        s.dispatch(p, {x.ref()}, {out.ref()}, pc, ceil_div(std::min<uint64_t>(max_x, pc.shape[3] - x0), wg[0]),
                   ceil_div(std::min<uint64_t>(max_y, pc.shape[2] - y0), wg[1]),
                   uint32_t(std::min(max_z, Z - z0)));
      }
  return out;
}

Tensor pad2d(vk::Stream& s, const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  VKD_OP_CHECK(x.rank() >= 2 && (x.dtype() == DType::F32 || x.dtype() == DType::F16),
               "pad2d: needs an f32/f16 tensor of rank >= 2, got " + x.str());
  VKD_OP_CHECK(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "pad2d: negative padding for " + x.str());
  const int64_t h = x.dim(-2), w = x.dim(-1), planes = x.numel() / std::max<int64_t>(h * w, 1);
  Shape os = x.shape();
  os[os.size() - 2] = h + top + bottom;
  os[os.size() - 1] = w + left + right;
  Tensor out = Tensor::empty(s.ctx(), os, x.dtype());
  const auto& caps = s.ctx().caps();
  VKD_OP_CHECK(x.bytes() <= caps.max_storage_buffer_range && out.bytes() <= caps.max_storage_buffer_range,
               "pad2d: tensor exceeds one binding: " + x.str());
  VKD_OP_CHECK(uint64_t(planes) <= caps.max_workgroup_count[2], "pad2d: too many planes: " + x.str());
  struct {
    uint32_t h, w, ho, wo;
    int32_t top, left;
  } pc{uint32_t(h), uint32_t(w), uint32_t(os[os.size() - 2]), uint32_t(os[os.size() - 1]), int32_t(top), int32_t(left)};
  auto& p = pipeline(s, "layout/pad2d", variant_for(s, x.dtype(), false), 2, {16, 8, 1});
  s.dispatch(p, {x.ref()}, {out.ref()}, pc, ceil_div(pc.wo, 16), ceil_div(pc.ho, 8), uint32_t(planes));
  return out;
}

}  // namespace vkdream::ops
