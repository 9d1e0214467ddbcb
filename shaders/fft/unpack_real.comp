// Complex f32 back to real planes: y[y_base + i] = STORE_T(c[i].x * norm), the real part of an
// unnormalised inverse FFT times 1/(H*W) (torch.fft.ifftn's "backward" norm), then .to(x.dtype).
// Bindings: 0 c (vec2), 1 y (STORE_T window, out).
// Push constants: y_base, total (elements), row stride, norm.
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d over total.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer C { vec2 c[]; };
layout(std430, binding = 1) writeonly buffer Y { STORE_T y[]; };
layout(push_constant) uniform PC {
  uint y_base;
  uint total;
  uint row_stride;
  float norm;
} pc;

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (i >= pc.total) return;
  y[pc.y_base + i] = STORE_T(c[i].x * pc.norm);
}
