// Token (+ position) embedding over one row range of the table:
//   for every token k = b * L + l whose id, clamped into [0, V), lies in
//   [row_begin, row_begin + rows):  out[k, d] = table[id - row_begin, d] (+ pos[l, d]).
// Tokens outside the range are left untouched, so the host binds a large table in row ranges
// that each fit one binding and records one dispatch per range; every token falls in exactly one.
// Bindings: 0 ids [B * L] (int32, whatever the variant), 1 table rows of this range [rows, D]
//   (STORE_T), 2 positions [Lmax, D] (STORE_T; any buffer when HAS_POS = 0), 3 out [B * L, D] (STORE_T).
// Push constants: D, L, V (rows of the whole table), row_begin, rows, total = B * L * D, row_stride.
// Spec constants: 0..2 workgroup size; 3 HAS_POS (0 or 1).
// Dispatch: grid_1d(total, wg_x) per row range.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint HAS_POS = 0;

layout(std430, binding = 0) readonly buffer Ids { int ids[]; };
layout(std430, binding = 1) readonly buffer Table { STORE_T table[]; };
layout(std430, binding = 2) readonly buffer Pos { STORE_T pos[]; };
layout(std430, binding = 3) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  uint D;
  uint L;
  uint V;
  uint row_begin;
  uint rows;
  uint total;
  uint row_stride;
} pc;

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (i >= pc.total) return;
  uint tok = i / pc.D, d = i % pc.D;
  uint id = uint(clamp(ids[tok], 0, int(pc.V) - 1));
  uint r = id - pc.row_begin;  // wraps to a huge value below the range
  if (r >= pc.rows) return;
  ARITH_T v = ARITH_T(table[r * pc.D + d]);
  if (HAS_POS != 0u) v += ARITH_T(pos[(tok % pc.L) * pc.D + d]);
  o[i] = STORE_T(v);
}
