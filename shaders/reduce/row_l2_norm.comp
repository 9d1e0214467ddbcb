// Euclidean norm of each row: out[r] = sqrt(sum_c x[r, c]^2) + eps, summed in float whatever the storage
// (DoRA's per-channel weight norm, ComfyUI's weight_decompose). One workgroup per row: strided partial
// sums, then a tree in shared memory.
// Bindings: 0 x (STORE_T window of rows [rows, cols]), 1 out (float [rows], out; a window too).
// Push constants: x_base, out_base (elements from each binding's start to the window's first row), cols, eps.
// Spec constants: 0..2 workgroup size (x a power of two).
// Dispatch: (rows in this window, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer O { float o[]; };
layout(push_constant) uniform PC {
  uint x_base;
  uint out_base;
  uint cols;
  float eps;
} pc;

shared float red[gl_WorkGroupSize.x];

void main() {
  uint t = gl_LocalInvocationID.x;
  uint row = gl_WorkGroupID.x;
  uint at = pc.x_base + row * pc.cols;
  float sum = 0.0;
  for (uint c = t; c < pc.cols; c += gl_WorkGroupSize.x) {
    float v = float(x[at + c]);
    sum += v * v;
  }
  red[t] = sum;
  barrier();
  for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1u) {
    if (t < s) red[t] += red[t + s];
    barrier();
  }
  if (t == 0u) o[pc.out_base + row] = sqrt(red[0]) + pc.eps;
}
