// Elementwise unary ops: SiLU, GELU (erf), QuickGELU, the affine y = x * mul + add, and round (half to even).
// Bindings: 0 x (STORE_T window), 1 y (STORE_T window, out).
// Push constants: x_base, y_base (elements from each binding's start to the window's first
//   element), n (elements in the window), row_stride (invocations per grid row, see grid_1d),
//   mul, add.
// Spec constants: 0..2 workgroup size, 3 OP (0 SiLU, 1 GELU, 2 QuickGELU, 3 affine, 4 round),
//   4 VEC4 (1: x_base and y_base are multiples of 4; each invocation handles 4 elements).
// Dispatch: grid_1d over ceil(n / 4) invocations (VEC4) or n invocations.
// SiLU, QuickGELU and affine compute in ARITH_T; GELU always in float (erfc polynomial).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;
#include "norm_act.glsl"

layout(constant_id = 3) const uint OP = 0;
layout(constant_id = 4) const uint VEC4 = 0;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 0) readonly buffer X4 { STORE_VEC4 x4[]; };
layout(std430, binding = 1) writeonly buffer Y { STORE_T y[]; };
layout(std430, binding = 1) writeonly buffer Y4 { STORE_VEC4 y4[]; };

layout(push_constant) uniform PC {
  uint x_base;
  uint y_base;
  uint n;
  uint row_stride;
  float mul;
  float add;
} pc;

ARITH_T apply(ARITH_T v) {
  if (OP == 0u) return v / (ARITH_T(1.0) + exp(-v));
  if (OP == 1u) return ARITH_T(act_gelu(float(v)));
  if (OP == 2u) return v / (ARITH_T(1.0) + exp(ARITH_T(-1.702) * v));
  if (OP == 4u) return roundEven(v);
  return v * ARITH_T(pc.mul) + ARITH_T(pc.add);
}

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (VEC4 != 0u) {
    uint e = i * 4u;
    if (e + 4u <= pc.n) {
      ARITH_VEC4 v = ARITH_VEC4(x4[pc.x_base / 4u + i]);
      y4[pc.y_base / 4u + i] = STORE_VEC4(ARITH_VEC4(apply(v.x), apply(v.y), apply(v.z), apply(v.w)));
    } else {
      for (; e < pc.n; ++e) y[pc.y_base + e] = STORE_T(apply(ARITH_T(x[pc.x_base + e])));
    }
  } else if (i < pc.n) {
    y[pc.y_base + i] = STORE_T(apply(ARITH_T(x[pc.x_base + i])));
  }
}
