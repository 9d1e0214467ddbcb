// binary.comp's commonest broadcast for a CPU device: out[r][j] = op(a[r][j], b[r]) * scale, b one value per row
// of L (the UNet ResBlocks' time embedding added over each channel plane), 8 outputs per invocation: a read as
// texels of 4 values (imageLoad: vectorised on llvmpipe, where an SSBO access runs a loop over the lanes), out
// stored 8 at a time (wide_store.glsl), the op a specialization constant (llvmpipe runs both sides of a uniform
// branch).
// Bindings: 0 a imageBuffer [rows][L/4] (rgba32f, or rgba16f), 1 b [rows] (STORE_T), 2 out [rows][L/8] (WIDE_T).
// Push constants: L8 (= L / 8), total (= rows * L8), row_stride, scale.
// Spec constants: 0..2 workgroup size; 3 OP (0 add, 1 sub, 2 mul, 3 div).
// Dispatch: grid_1d(total, wg); e = gid.y * row_stride + gid.x.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint OP = 0;
layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer A;
layout(std430, binding = 1) readonly buffer B { STORE_T b[]; };
layout(std430, binding = 2) writeonly buffer O { WIDE_T o[]; };
layout(push_constant) uniform PC {
  uint L8, total, row_stride;
  float scale;
} pc;

vec4 apply(vec4 x, float y) {
  if (OP == 0u) return (x + y) * pc.scale;
  if (OP == 1u) return (x - y) * pc.scale;
  if (OP == 2u) return (x * y) * pc.scale;
  return (x / y) * pc.scale;
}

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const float y = float(b[e / pc.L8]);
  o[e] = to_wide(apply(imageLoad(A, int(2u * e)), y), apply(imageLoad(A, int(2u * e + 1u)), y));
}
