// Softmax over the last dimension as softmax.comp computes it, for rows whose length is a multiple of 4, reading
// x through a storage texel buffer (4 values per imageLoad) and writing 4 values per store.
// Why (measured on Mesa 22.3 llvmpipe): an SSBO access there is a loop over the 8 lanes, one scalar each, while
// imageLoad takes the vectorised texture path; a 4-wide store runs the same loop for 4 values at once. Attention's
// score rows (up to 4096 keys x 4096 queries per head at 512x512) make this one of the UNet's largest passes.
// Bindings: 0 x imageBuffer [rows][n/4] (rgba32f, or rgba16f for 16-bit storage), 1 out (STORE_VEC4).
// Push constants: as softmax.comp (rows, n, row_stride, causal, block_rows, first_query, keys); n % 4 == 0.
// Spec constants: 0..2 workgroup size (x: invocations per row, a power of two <= 256).
// Dispatch: one workgroup per row: (min(rows, x limit), ceil(rows / that)), row = wgid.y * row_stride + wgid.x
// (clamped). A CPU device takes softmax_lanes.comp instead (one row per invocation).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer X;
layout(std430, binding = 1) writeonly buffer O { STORE_VEC4 o[]; };

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

#include "softmax_row.glsl"

// exp(x - mx) * inv for texels first, first + step, ... of the row.
void row_write(int base4, uint valid, uint first, uint step, float mx, float inv) {
  for (uint i = first; i < pc.n / 4u; i += step) o[uint(base4) + i] = STORE_VEC4(row_value(base4, i, valid, mx, inv));
}

void main() {
  const uint WG = gl_WorkGroupSize.x;
  const uint lid = gl_LocalInvocationID.x;
  // Excess workgroups redo the last row (same values), so no branch encloses the barriers.
  const uint row = min(gl_WorkGroupID.y * pc.row_stride + gl_WorkGroupID.x, pc.rows - 1u);
  const int base4 = int(row * (pc.n / 4u));
  const uint valid = row_valid(row);
  float m = -3.0e38, l = 0.0;
  row_partial(base4, valid, lid, WG, m, l);
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
  row_write(base4, valid, lid, WG, sm[0], 1.0 / ss[0]);
}
