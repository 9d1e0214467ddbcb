// LayerNorm as layer_norm.comp computes it, for a CPU device: one row per invocation (no shared memory, no
// barrier), x, gamma and beta read as texels of 4 values, y stored 8 values at a time. Why (measured on Mesa 22.3
// llvmpipe): a workgroup's subgroups run one after another and every barrier of a per-row reduction switches
// between them; SSBO accesses run a loop over the lanes (imageLoad is vectorised; wide_store.glsl).
// Bindings: 0 x imageBuffer [rows][C/4], 1 gamma, 2 beta imageBuffer [C/4] (rgba32f, or rgba16f),
// 3 y [rows][C/8] (WIDE_T, out).
// Push constants: rows, C8 (= C / 8), row_stride, eps.
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d(rows, wg); row = gid.y * row_stride + gid.x.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;

layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer X;
layout(binding = 1, TEXEL4_FORMAT) uniform readonly imageBuffer G;
layout(binding = 2, TEXEL4_FORMAT) uniform readonly imageBuffer B;
layout(std430, binding = 3) writeonly buffer Y { WIDE_T y[]; };

layout(push_constant) uniform PC {
  uint rows;
  uint C8;
  uint row_stride;
  float eps;
} pc;

void main() {
  const uint row = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (row >= pc.rows) return;
  const uint C4 = 2u * pc.C8;
  const int base = int(row * C4);
  const float C = float(8u * pc.C8);
  vec4 s4 = vec4(0.0);
  for (uint i = 0u; i < C4; ++i) s4 += imageLoad(X, base + int(i));
  const float mean = ((s4.x + s4.y) + (s4.z + s4.w)) / C;
  vec4 q4 = vec4(0.0);
  for (uint i = 0u; i < C4; ++i) {
    const vec4 d = imageLoad(X, base + int(i)) - mean;
    q4 += d * d;
  }
  const float rstd = inversesqrt(((q4.x + q4.y) + (q4.z + q4.w)) / C + pc.eps);
  for (uint j = 0u; j < pc.C8; ++j) {
    const int i = int(2u * j);
    const vec4 lo = (imageLoad(X, base + i) - mean) * rstd * imageLoad(G, i) + imageLoad(B, i);
    const vec4 hi = (imageLoad(X, base + i + 1) - mean) * rstd * imageLoad(G, i + 1) + imageLoad(B, i + 1);
    y[row * pc.C8 + j] = to_wide(lo, hi);
  }
}
