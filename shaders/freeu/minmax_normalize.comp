// Per-sample min-max normalisation: y = (x - min) / (max - min) over the N elements of each sample,
// each step rounded to STORE_T as torch does in x's dtype. A flat sample (max == min) gives 0 / 0 =
// NaN, written explicitly (GPU division by zero is not IEEE-defined), as FreeU_V2 gets in ComfyUI.
// Bindings: 0 x (STORE_T [B, N]), 1 y (STORE_T [B, N], out).
// Push constants: N.
// Spec constants: 0..2 workgroup size (x a power of two).
// Dispatch: (B, 1, 1); one workgroup per sample.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer Y { STORE_T y[]; };
layout(push_constant) uniform PC {
  uint N;
} pc;

shared vec2 red[gl_WorkGroupSize.x];  // (min, max)

void main() {
  uint t = gl_LocalInvocationID.x;
  uint base = gl_WorkGroupID.x * pc.N;
  vec2 r = vec2(uintBitsToFloat(0x7f800000u), uintBitsToFloat(0xff800000u));  // (+inf, -inf)
  for (uint i = t; i < pc.N; i += gl_WorkGroupSize.x) {
    float v = float(x[base + i]);
    r = vec2(min(r.x, v), max(r.y, v));
  }
  red[t] = r;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
    if (t < s) red[t] = vec2(min(red[t].x, red[t + s].x), max(red[t].y, red[t + s].y));
    barrier();
  }
  float lo = red[0].x, hi = red[0].y;
  float range = float(STORE_T(hi - lo));
  for (uint i = t; i < pc.N; i += gl_WorkGroupSize.x) {
    float d = float(STORE_T(float(x[base + i]) - lo));
    y[base + i] = range == 0.0 ? STORE_T(uintBitsToFloat(0x7fc00000u)) : STORE_T(d / range);
  }
}
