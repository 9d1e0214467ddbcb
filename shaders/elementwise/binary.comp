// Elementwise binary op with broadcasting: out[i] = op(a[ia], b[ib]) for up to 4 dims.
// Bindings: 0 a (STORE_T), 1 b (STORE_T), 2 out (STORE_T).
// Push constants: out shape (4), a strides (4), b strides (4) in elements (0 where broadcast),
//   total element count (of this window), op (0 add, 1 sub, 2 mul, 3 div), scale applied to the
//   result, row stride, a_base, b_base, o_base (elements from each binding's start to the window's
//   first element: large tensors go in windows of one binding, of whole rows of the outer dim when
//   broadcasting).
// Spec constants: 0..2 workgroup size; 3 BROADCAST (0: a, b and out have one shape, so the
//   index arithmetic is skipped: on lavapipe the divisions cost more than the op).
// Dispatch: (ceil(total / wg_x) capped at the device's x limit, rows in y).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint BROADCAST = 1;
layout(std430, binding = 0) readonly buffer A { STORE_T a[]; };
layout(std430, binding = 1) readonly buffer B { STORE_T b[]; };
layout(std430, binding = 2) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  uvec4 shape;
  uvec4 sa;
  uvec4 sb;
  uint total;
  uint op;
  float scale;
  uint row_stride;  // elements covered by one y row of workgroups
  uint a_base;
  uint b_base;
  uint o_base;
} pc;

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (i >= pc.total) return;
  uint ia = i, ib = i;
  if (BROADCAST != 0u) {
    uint r = i;
    uint i3 = r % pc.shape.w; r /= pc.shape.w;
    uint i2 = r % pc.shape.z; r /= pc.shape.z;
    uint i1 = r % pc.shape.y; r /= pc.shape.y;
    uint i0 = r;
    ia = i0 * pc.sa.x + i1 * pc.sa.y + i2 * pc.sa.z + i3 * pc.sa.w;
    ib = i0 * pc.sb.x + i1 * pc.sb.y + i2 * pc.sb.z + i3 * pc.sb.w;
  }
  ARITH_T x = ARITH_T(a[pc.a_base + ia]);
  ARITH_T y = ARITH_T(b[pc.b_base + ib]);
  ARITH_T v;
  if (pc.op == 0u) v = x + y;
  else if (pc.op == 1u) v = x - y;
  else if (pc.op == 2u) v = x * y;
  else v = x / y;
  o[pc.o_base + i] = STORE_T(float(v) * pc.scale);
}
