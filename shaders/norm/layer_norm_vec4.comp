// LayerNorm as layer_norm.comp computes it, 4 values per load and store, for rows of C % 4 == 0 whose windows
// start at a multiple of 4 elements. Why: on lavapipe (Mesa 22.3) every SSBO access is a loop over the 8 lanes,
// so a 4-wide access costs about what a scalar one does; the UNet's 48 LayerNorms over [tokens, 320..1280] ran
// about 4x longer as scalars.
// Bindings: 0 x (STORE_VEC4 window of rows), 1 gamma [C], 2 beta [C] (STORE_VEC4), 3 y (STORE_VEC4, out).
// Push constants: x_base4, y_base4 (vec4s from each binding's start to the window's first row), C4 (= C / 4),
//   rows (in this window), gx (workgroups per grid row), eps.
// Spec constants: 0..2 workgroup size (x a power of two, x * PER >= C4), 3 PER (vec4s per invocation, <= 16).
// Dispatch: (gx, ceil(rows / gx), 1); row = gid.y * gx + gid.x.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;
#include "norm_reduce.glsl"

layout(constant_id = 3) const uint PER = 1;

layout(std430, binding = 0) readonly buffer X { STORE_VEC4 x[]; };
layout(std430, binding = 1) readonly buffer G { STORE_VEC4 gamma[]; };
layout(std430, binding = 2) readonly buffer B { STORE_VEC4 beta[]; };
layout(std430, binding = 3) writeonly buffer Y { STORE_VEC4 y[]; };

layout(push_constant) uniform PC {
  uint x_base4;
  uint y_base4;
  uint C4;
  uint rows;
  uint gx;
  float eps;
} pc;

void main() {
  uint row = gl_WorkGroupID.y * pc.gx + gl_WorkGroupID.x;
  if (row >= pc.rows) return;  // uniform across the workgroup
  uint t = gl_LocalInvocationID.x;
  uint WG = gl_WorkGroupSize.x;
  uint xr = pc.x_base4 + row * pc.C4;
  vec4 v[PER];
  float s = 0.0;
  [[unroll]] for (uint k = 0u; k < PER; ++k) {
    uint i = t + k * WG;
    v[k] = i < pc.C4 ? vec4(x[xr + i]) : vec4(0.0);
    s += (v[k].x + v[k].y) + (v[k].z + v[k].w);
  }
  const float C = float(pc.C4 * 4u);
  float mean = norm_reduce_sum2(vec2(s, 0.0)).x / C;
  float q = 0.0;
  [[unroll]] for (uint k = 0u; k < PER; ++k) {
    vec4 d = t + k * WG < pc.C4 ? v[k] - mean : vec4(0.0);
    q += dot(d, d);
  }
  float rstd = inversesqrt(norm_reduce_sum2(vec2(q, 0.0)).x / C + pc.eps);
  uint yr = pc.y_base4 + row * pc.C4;
  [[unroll]] for (uint k = 0u; k < PER; ++k) {
    uint i = t + k * WG;
    if (i < pc.C4) y[yr + i] = STORE_VEC4((v[k] - mean) * rstd * vec4(gamma[i]) + vec4(beta[i]));
  }
}
