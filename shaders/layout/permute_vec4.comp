// permute.comp moving 4 values per access, for permutations that keep the innermost dim (a multiple of 4) in
// place, e.g. attention's head split [B, L, H, D] -> [B, H, L, D]; shape.w and st are counted in vec4s. Why:
// lavapipe (Mesa 22.3) runs every SSBO access as a loop over the lanes, so this is ~4x fewer of them.
// Permuted copy (a gather) of up to 4 dims:
//   out[i0, i1, i2, i3] = x[i0 * st.x + i1 * st.y + i2 * st.z + i3 * st.w]
// The grid supplies i3 (x) and i2 (y); z covers i0 * shape.y + i1, split with one division of a
// workgroup-uniform value (lavapipe scalarizes per-invocation integer division).
// Bindings: 0 x (STORE_T), 1 out (STORE_T).
// Push constants: out shape (4, right-aligned, leading 1s), st = the input stride (in elements)
//   of each output dim (4), z_offset (first i0 * shape.y + i1 of this dispatch), y_offset and
//   x_offset (first i2 and i3 of this dispatch).
// Spec constants: 0..2 workgroup size (wx, wy, 1).
// Dispatch: (ceil(shape.w / wx), ceil(shape.z / wy), shape.x * shape.y), split into several
//   dispatches (with offsets) where that exceeds the device's group counts.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer X { STORE_VEC4 x[]; };
layout(std430, binding = 1) writeonly buffer O { STORE_VEC4 o[]; };

layout(push_constant) uniform PC {
  uvec4 shape;
  uvec4 st;
  uint z_offset;
  uint y_offset;
  uint x_offset;
} pc;

void main() {
  uint i3 = pc.x_offset + gl_GlobalInvocationID.x, i2 = pc.y_offset + gl_GlobalInvocationID.y;
  uint z = pc.z_offset + gl_WorkGroupID.z;
  uint i0 = z / pc.shape.y, i1 = z % pc.shape.y;
  if (i3 >= pc.shape.w || i2 >= pc.shape.z) return;
  uint out_i = ((z * pc.shape.z) + i2) * pc.shape.w + i3;
  o[out_i] = x[i0 * pc.st.x + i1 * pc.st.y + i2 * pc.st.z + i3 * pc.st.w];
}
