// group_norm_apply.comp for a CPU device: y = (x - mean) * (rstd * gamma[c]) + beta[c] (then SiLU if asked),
// BLOCK x 8 values of one channel row per invocation: x read as texels of 4 values (imageLoad: vectorised on
// llvmpipe, where an SSBO access runs a loop over the lanes) and y stored 8 at a time (wide_store.glsl); the
// group's statistics and the channel's gamma and beta are read once per invocation.
// Bindings: 0 x imageBuffer (rgba32f / rgba16f; the window of groups [g0, g0 + ng)), 1 gamma [C], 2 beta [C]
// (STORE_T), 3 stats (vec2 float: mean, rstd per group), 4 y (WIDE_T, out; the same window of groups).
// Push constants: x_base4 (texels from the binding's start to group g0), y_base8 (8-value units), HW8 (= HW / 8),
// cpg (channels per group), C, c0 (channel of the window's first row), g0 (into stats), total (invocations),
// row_stride.
// Spec constants: 0..2 workgroup size; 3 SILU; 4 BLOCK (8-value stores per invocation, dividing HW8).
// Dispatch: grid_1d(total, wg); e = gid.y * row_stride + gid.x, blocks of a row fastest.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;
#include "norm_act.glsl"

layout(constant_id = 3) const uint SILU = 0;
layout(constant_id = 4) const uint BLOCK = 1;

layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer X;
layout(std430, binding = 1) readonly buffer G { STORE_T gamma[]; };
layout(std430, binding = 2) readonly buffer B { STORE_T beta[]; };
layout(std430, binding = 3) readonly buffer S { vec2 stats[]; };
layout(std430, binding = 4) writeonly buffer Y { WIDE_T y[]; };

layout(push_constant) uniform PC {
  uint x_base4, y_base8, HW8, cpg, C, c0, g0, total, row_stride;
} pc;

vec4 finish(vec4 v, float mean, float a, float b) {
  const vec4 r = (v - mean) * a + b;
  return SILU != 0u ? vec4(act_silu(r.x), act_silu(r.y), act_silu(r.z), act_silu(r.w)) : r;
}

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const uint per_row = pc.HW8 / BLOCK;
  const uint row = e / per_row, j0 = (e - row * per_row) * BLOCK;  // channel row within the window
  const vec2 st = stats[pc.g0 + row / pc.cpg];
  const uint c = (pc.c0 + row) % pc.C;
  // (x - mean) * a + b rather than x * a + (b - mean * a), as group_norm_apply.comp.
  const float a = st.y * float(gamma[c]), b = float(beta[c]);
  const int xr = int(pc.x_base4 + row * 2u * pc.HW8);
  const uint yr = pc.y_base8 + row * pc.HW8;
  [[unroll]] for (uint k = 0u; k < BLOCK; ++k) {
    const int t = xr + int(2u * (j0 + k));
    y[yr + j0 + k] = to_wide(finish(imageLoad(X, t), st.x, a, b), finish(imageLoad(X, t + 1), st.x, a, b));
  }
}
