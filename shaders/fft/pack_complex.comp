// Real planes into complex f32 for VkFFT: c[i] = (float(x[x_base + i]), 0). Fourier_filter's x.float().
// Bindings: 0 x (STORE_T window), 1 c (vec2, out).
// Push constants: x_base (elements from the window's start to the first plane), total (elements), row stride.
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d over total.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer C { vec2 c[]; };
layout(push_constant) uniform PC {
  uint x_base;
  uint total;
  uint row_stride;
} pc;

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (i >= pc.total) return;
  c[i] = vec2(float(x[pc.x_base + i]), 0.0);
}
