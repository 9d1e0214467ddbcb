// out[i] = clamp(x[i] * mul + add, lo, hi), in f32 arithmetic (VAEDecode's clamp((x + 1) / 2, 0, 1)).
// Bindings: 0 x (STORE_T), 1 out (STORE_T).
// Push constants: mul, add, lo, hi, element count (of this window), row stride, x_base, o_base (elements
//   from each binding's start to the window's first element: large tensors go in windows of one binding).
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d over the element count.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer O { STORE_T o[]; };
layout(push_constant) uniform PC {
  float mul, add, lo, hi;
  uint total;
  uint row_stride;
  uint x_base;
  uint o_base;
} pc;

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (i >= pc.total) return;
  o[pc.o_base + i] = STORE_T(clamp(float(x[pc.x_base + i]) * pc.mul + pc.add, pc.lo, pc.hi));
}
