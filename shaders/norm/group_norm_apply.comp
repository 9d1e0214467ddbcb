// GroupNorm, pass 2 of 2: y = (x - mean) * (rstd * gamma[c]) + beta[c], optionally followed by
// SiLU, with (mean, rstd) of the group from group_norm_finalize.
// One workgroup handles a span of `span` elements of one channel row (spatial size HW).
// Bindings: 0 x (STORE_T window of groups [g0, g0 + ng)), 1 gamma [C], 2 beta [C] (STORE_T),
//   3 stats (vec2 float: mean, rstd per group), 4 y (STORE_T, out; same window layout as x).
// Push constants: x_base, y_base (elements from each binding's start to group g0), HW, cpg
//   (channels per group), C, c0 (channel of the window's first row), g0 (the window's first
//   group, into stats), span.
// Spec constants: 0..2 workgroup size, 3 VEC4 (1: x_base, y_base, HW and span multiples of 4),
//   4 SILU (1: apply x * sigmoid(x) to the normalised output).
// Dispatch: (ceil(HW / span), ng * cpg, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;
#include "norm_act.glsl"

layout(constant_id = 3) const uint VEC4 = 0;
layout(constant_id = 4) const uint SILU = 0;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 0) readonly buffer X4 { STORE_VEC4 x4[]; };
layout(std430, binding = 1) readonly buffer G { STORE_T gamma[]; };
layout(std430, binding = 2) readonly buffer B { STORE_T beta[]; };
layout(std430, binding = 3) readonly buffer S { vec2 stats[]; };
layout(std430, binding = 4) writeonly buffer Y { STORE_T y[]; };
layout(std430, binding = 4) writeonly buffer Y4 { STORE_VEC4 y4[]; };

layout(push_constant) uniform PC {
  uint x_base;
  uint y_base;
  uint HW;
  uint cpg;
  uint C;
  uint c0;
  uint g0;
  uint span;
} pc;

float finish(float v, float mean, float a, float b) {
  float r = (v - mean) * a + b;
  return SILU != 0u ? act_silu(r) : r;
}

void main() {
  uint row = gl_WorkGroupID.y;  // channel row within the window
  uint g = row / pc.cpg;
  uint c = (pc.c0 + row) % pc.C;
  vec2 st = stats[pc.g0 + g];
  float mean = st.x;
  float rstd = st.y;
  // (x - mean) * a + b rather than x * a + (b - mean * a): the latter cancels when |mean * a|
  // is much larger than the output (one-element groups, large means).
  float a = rstd * float(gamma[c]);
  float b = float(beta[c]);

  uint s0 = gl_WorkGroupID.x * pc.span;
  uint s1 = min(s0 + pc.span, pc.HW);
  uint WG = gl_WorkGroupSize.x;
  uint xr = pc.x_base + row * pc.HW;
  uint yr = pc.y_base + row * pc.HW;
  if (VEC4 != 0u) {
    uint xo = xr / 4u, yo = yr / 4u;
    for (uint i = s0 / 4u + gl_LocalInvocationID.x; i < s1 / 4u; i += WG) {
      vec4 v = vec4(x4[xo + i]);
      y4[yo + i] = STORE_VEC4(vec4(finish(v.x, mean, a, b), finish(v.y, mean, a, b), finish(v.z, mean, a, b), finish(v.w, mean, a, b)));
    }
  } else {
    for (uint i = s0 + gl_LocalInvocationID.x; i < s1; i += WG) y[yr + i] = STORE_T(finish(float(x[xr + i]), mean, a, b));
  }
}
