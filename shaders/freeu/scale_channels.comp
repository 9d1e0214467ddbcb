// Scales the first channels of x [B, C, HW]: out[b, c, p] = x * f for c < c_end, else x, with
//   f = add                          (no map: FreeU's h[:, :C/2] * b)
//   f = (mul * map[b, p]) + add      (map [B, HW]: FreeU_V2's (b - 1) * hidden_mean + 1)
// each product and sum rounded to STORE_T as torch computes it in h's dtype (no fused multiply-add).
// Bindings: 0 x (STORE_T), 1 map (STORE_T [B, HW]; any buffer when unused), 2 out (STORE_T).
// Push constants: C, HW, c_end, total (= B * C * HW), row stride, mul, add.
// Spec constants: 0..2 workgroup size, 3 HAS_MAP (0 or 1).
// Dispatch: grid_1d over B * C * HW.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint HAS_MAP = 0;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) readonly buffer M { STORE_T map[]; };
layout(std430, binding = 2) writeonly buffer O { STORE_T o[]; };
layout(push_constant) uniform PC {
  uint C, HW, c_end, total, row_stride;
  float mul, add;
} pc;

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (i >= pc.total) return;
  uint p = i % pc.HW, bc = i / pc.HW, c = bc % pc.C, b = bc / pc.C;
  float v = float(x[i]);
  if (c < pc.c_end) {
    precise float f = pc.add;
    if (HAS_MAP != 0) {
      precise float prod = float(STORE_T(pc.mul * float(map[b * pc.HW + p])));
      f = float(STORE_T(prod + pc.add));
    }
    v = v * f;
  }
  o[i] = STORE_T(v);
}
