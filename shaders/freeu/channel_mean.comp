// Mean over the channels of x [B, C, HW]: m[b, p] = sum_c x[b, c, p] / C, summed in float, stored in
// STORE_T (torch's h.mean(1) keeps h's dtype).
// Bindings: 0 x (STORE_T), 1 m (STORE_T [B, HW], out).
// Push constants: C, HW, total (= B * HW), row stride.
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d over B * HW.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer M { STORE_T m[]; };
layout(push_constant) uniform PC {
  uint C, HW, total, row_stride;
} pc;

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (i >= pc.total) return;
  uint b = i / pc.HW, p = i % pc.HW;
  uint at = b * pc.C * pc.HW + p;
  float sum = 0.0;
  for (uint c = 0; c < pc.C; ++c, at += pc.HW) sum += float(x[at]);
  m[i] = STORE_T(sum / float(pc.C));
}
