// Linear combination of up to 6 same-shaped tensors: out[i] = sum_k c[k] * x_k[i] (+ c6).
// The sampler update rules (Euler, DPM++, UniPC, ...) are all of this form.
// Bindings: 0..5 inputs x_0..x_5 (STORE_T; unused ones bound to x_0), 6 out (STORE_T).
// Push constants: coefficients c[0..5], constant term, element count (of this window), row stride,
//   base[0..6] (elements from each binding's start, x_0..x_5 then out, to the window's first element:
//   large tensors go in windows of one binding).
// Spec constants: 0..2 workgroup size; 3 N, the number of inputs used (1..6).
// Dispatch: grid_1d over the element count.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint N = 1;
layout(std430, binding = 0) readonly buffer X0 { STORE_T x0[]; };
layout(std430, binding = 1) readonly buffer X1 { STORE_T x1[]; };
layout(std430, binding = 2) readonly buffer X2 { STORE_T x2[]; };
layout(std430, binding = 3) readonly buffer X3 { STORE_T x3[]; };
layout(std430, binding = 4) readonly buffer X4 { STORE_T x4[]; };
layout(std430, binding = 5) readonly buffer X5 { STORE_T x5[]; };
layout(std430, binding = 6) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  float c[6];
  float bias;
  uint total;
  uint row_stride;
  uint base[7];
} pc;

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (i >= pc.total) return;
  // Always f32 arithmetic: sampler state reaches O(100) and needs the precision.
  float v = pc.bias + pc.c[0] * float(x0[pc.base[0] + i]);
  if (N > 1u) v += pc.c[1] * float(x1[pc.base[1] + i]);
  if (N > 2u) v += pc.c[2] * float(x2[pc.base[2] + i]);
  if (N > 3u) v += pc.c[3] * float(x3[pc.base[3] + i]);
  if (N > 4u) v += pc.c[4] * float(x4[pc.base[4] + i]);
  if (N > 5u) v += pc.c[5] * float(x5[pc.base[5] + i]);
  o[pc.base[6] + i] = STORE_T(v);
}
