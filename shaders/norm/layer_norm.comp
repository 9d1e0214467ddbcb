// LayerNorm over the last dim: one workgroup normalises one row of C elements, held in
// registers (PER per invocation) so the row is read once; mean and variance are two exact
// passes over the registers, in float.
// Bindings: 0 x (STORE_T window of rows), 1 gamma [C], 2 beta [C] (STORE_T), 3 y (STORE_T, out).
// Push constants: x_base, y_base (elements from each binding's start to the window's first row),
//   C, rows (in this window), gx (workgroups per grid row), eps.
// Spec constants: 0..2 workgroup size (x a power of two, x * PER >= C), 3 PER (elements per
//   invocation, at most 16).
// Dispatch: (gx, ceil(rows / gx), 1); row = gid.y * gx + gid.x.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;
#include "norm_reduce.glsl"

layout(constant_id = 3) const uint PER = 1;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) readonly buffer G { STORE_T gamma[]; };
layout(std430, binding = 2) readonly buffer B { STORE_T beta[]; };
layout(std430, binding = 3) writeonly buffer Y { STORE_T y[]; };

layout(push_constant) uniform PC {
  uint x_base;
  uint y_base;
  uint C;
  uint rows;
  uint gx;
  float eps;
} pc;

void main() {
  uint row = gl_WorkGroupID.y * pc.gx + gl_WorkGroupID.x;
  if (row >= pc.rows) return;  // uniform across the workgroup
  uint t = gl_LocalInvocationID.x;
  uint WG = gl_WorkGroupSize.x;
  uint xr = pc.x_base + row * pc.C;
  float v[PER];
  float s = 0.0;
  [[unroll]] for (uint k = 0u; k < PER; ++k) {
    uint i = t + k * WG;
    v[k] = i < pc.C ? float(x[xr + i]) : 0.0;
    s += v[k];
  }
  float mean = norm_reduce_sum2(vec2(s, 0.0)).x / float(pc.C);
  float q = 0.0;
  [[unroll]] for (uint k = 0u; k < PER; ++k) {
    float d = t + k * WG < pc.C ? v[k] - mean : 0.0;
    q += d * d;
  }
  float rstd = inversesqrt(norm_reduce_sum2(vec2(q, 0.0)).x / float(pc.C) + pc.eps);
  uint yr = pc.y_base + row * pc.C;
  [[unroll]] for (uint k = 0u; k < PER; ++k) {
    uint i = t + k * WG;
    if (i < pc.C) y[yr + i] = STORE_T((v[k] - mean) * rstd * float(gamma[i]) + float(beta[i]));
  }
}
