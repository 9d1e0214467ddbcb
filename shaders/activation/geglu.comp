// GEGLU (LDM's FeedForward gate): x [rows, 2F] -> y [rows, F], y = x[:, :F] * gelu(x[:, F:])
// with the exact (erf) GELU, computed in float.
// Bindings: 0 x (STORE_T window of rows), 1 y (STORE_T window of rows, out).
// Push constants: x_base, y_base (elements from each binding's start to the window's first row),
//   F, rows (in this window).
// Spec constants: 0..2 workgroup size, 3 VEC4 (1: F, x_base, y_base multiples of 4; each
//   invocation handles 4 outputs).
// Dispatch: (ceil(F / (VEC4 ? 4 : 1) / wg_x), rows, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;
#include "norm_act.glsl"

layout(constant_id = 3) const uint VEC4 = 0;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 0) readonly buffer X4 { STORE_VEC4 x4[]; };
layout(std430, binding = 1) writeonly buffer Y { STORE_T y[]; };
layout(std430, binding = 1) writeonly buffer Y4 { STORE_VEC4 y4[]; };

layout(push_constant) uniform PC {
  uint x_base;
  uint y_base;
  uint F;
  uint rows;
} pc;

void main() {
  uint j = gl_GlobalInvocationID.x;
  uint r = gl_WorkGroupID.y;
  if (VEC4 != 0u) {
    if (j * 4u >= pc.F) return;
    uint xi = (pc.x_base + r * 2u * pc.F) / 4u + j;
    vec4 a = vec4(x4[xi]);
    vec4 g = vec4(x4[xi + pc.F / 4u]);
    y4[(pc.y_base + r * pc.F) / 4u + j] =
        STORE_VEC4(a * vec4(act_gelu(g.x), act_gelu(g.y), act_gelu(g.z), act_gelu(g.w)));
  } else {
    if (j >= pc.F) return;
    uint xi = pc.x_base + r * 2u * pc.F + j;
    y[pc.y_base + r * pc.F + j] = STORE_T(float(x[xi]) * act_gelu(float(x[xi + pc.F])));
  }
}
