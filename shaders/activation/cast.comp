// Precision conversion between f32 and f16 tensors (same shape). Independent of the variant
// macros: buffers are declared with explicit float / float16_t types; the host uses the f32
// variant. f32 -> f16 rounds to nearest even (overflow gives inf).
// Bindings: 0 x (float or float16_t window, per TO_F16), 1 y (the other type, out).
// Push constants: x_base, y_base (elements from each binding's start to the window's first
//   element), n (elements in the window), row_stride (invocations per grid row, see grid_1d).
// Spec constants: 0..2 workgroup size, 3 TO_F16 (1: f32 -> f16, 0: f16 -> f32),
//   4 VEC4 (1: bases multiples of 4; each invocation converts 4 elements).
// Dispatch: grid_1d over ceil(n / 4) invocations (VEC4) or n invocations.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint TO_F16 = 1;
layout(constant_id = 4) const uint VEC4 = 0;

layout(std430, binding = 0) readonly buffer XF { float xf[]; };
layout(std430, binding = 0) readonly buffer XF4 { vec4 xf4[]; };
layout(std430, binding = 0) readonly buffer XH { float16_t xh[]; };
layout(std430, binding = 0) readonly buffer XH4 { f16vec4 xh4[]; };
layout(std430, binding = 1) writeonly buffer YF { float yf[]; };
layout(std430, binding = 1) writeonly buffer YF4 { vec4 yf4[]; };
layout(std430, binding = 1) writeonly buffer YH { float16_t yh[]; };
layout(std430, binding = 1) writeonly buffer YH4 { f16vec4 yh4[]; };

layout(push_constant) uniform PC {
  uint x_base;
  uint y_base;
  uint n;
  uint row_stride;
} pc;

void convert1(uint e) {
  if (TO_F16 != 0u) yh[pc.y_base + e] = float16_t(xf[pc.x_base + e]);
  else yf[pc.y_base + e] = float(xh[pc.x_base + e]);
}

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (VEC4 != 0u) {
    uint e = i * 4u;
    if (e + 4u <= pc.n) {
      if (TO_F16 != 0u) yh4[pc.y_base / 4u + i] = f16vec4(xf4[pc.x_base / 4u + i]);
      else yf4[pc.y_base / 4u + i] = vec4(xh4[pc.x_base / 4u + i]);
    } else {
      for (; e < pc.n; ++e) convert1(e);
    }
  } else if (i < pc.n) {
    convert1(i);
  }
}
