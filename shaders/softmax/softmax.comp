// Softmax over the last dimension, numerically stable: out = exp(x - max) / sum(exp(x - max)).
// One workgroup per row: each invocation keeps a running (max, sum) over a strided part of the
// row (online softmax), the workgroup combines them in shared memory, then writes the row.
// Bindings: 0 x (STORE_T), 1 out (STORE_T).
// Push constants: rows, n (row length), row_stride (workgroups per y row of the grid), and the
//   causal mask: when causal != 0, row r is query (r % block_rows) + first_query and only keys
//   j <= that query count (the others get probability 0); keys: only the first `keys` entries count.
// Spec constants: 0..2 workgroup size (x: invocations per row, a power of two <= 256).
// Dispatch: (min(rows, x limit), ceil(rows / that)); row = gid.y * row_stride + gid.x (clamped).
// Accumulation is float in every variant.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  uint rows;
  uint n;
  uint row_stride;
  uint causal;
  uint block_rows;
  uint first_query;
  uint keys;  // only keys [0, keys) take part (the rest: attention's zero padding)
} pc;

shared float sm[256];
shared float ss[256];

void main() {
  const uint WG = gl_WorkGroupSize.x;
  const uint lid = gl_LocalInvocationID.x;
  // Excess workgroups redo the last row (same values), so no branch encloses the barriers.
  const uint row = min(gl_WorkGroupID.y * pc.row_stride + gl_WorkGroupID.x, pc.rows - 1u);
  const uint base = row * pc.n;
  const uint valid = pc.causal != 0u ? min(pc.keys, row % pc.block_rows + pc.first_query + 1u) : pc.keys;
  float m = -3.0e38;
  float l = 0.0;
  for (uint i = lid; i < valid; i += WG) {
    const float v = float(x[base + i]);
    const float mn = max(m, v);
    l = l * exp(m - mn) + exp(v - mn);
    m = mn;
  }
  sm[lid] = m;
  ss[lid] = l;
  barrier();
  for (uint w = WG / 2u; w > 0u; w >>= 1u) {
    if (lid < w) {
      const float m2 = sm[lid + w];
      const float mn = max(sm[lid], m2);
      ss[lid] = ss[lid] * exp(sm[lid] - mn) + ss[lid + w] * exp(m2 - mn);
      sm[lid] = mn;
    }
    barrier();
  }
  const float mx = sm[0];
  const float inv = 1.0 / ss[0];
  for (uint i = lid; i < pc.n; i += WG) o[base + i] = STORE_T(i < valid ? exp(float(x[base + i]) - mx) * inv : 0.0);
}
