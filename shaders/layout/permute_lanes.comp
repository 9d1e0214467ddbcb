// permute_vec4.comp for a CPU device, 8 values per invocation: x read as two texels (imageLoad: vectorised on
// llvmpipe, where an SSBO access runs a loop over the lanes) and stored as one WIDE_T (wide_store.glsl). For
// permutations that keep the innermost dim (a multiple of 8) in place, e.g. attention's head split
// [B, L, H, D] -> [B, H, L, D]; shape.w is counted in 8-value units, st in texels (4 values).
//   out[i0, i1, i2, i3] = x[i0 * st.x + i1 * st.y + i2 * st.z + 2 * i3 (+ 1)]
// The grid supplies i3 (x) and i2 (y); z covers i0 * shape.y + i1, split with one division of a
// workgroup-uniform value (lavapipe scalarizes per-invocation integer division).
// Bindings: 0 x imageBuffer (rgba32f / rgba16f), 1 out (WIDE_T).
// Push constants: out shape (4, right-aligned, leading 1s), st (4), z_offset, y_offset, x_offset (as
//   permute_vec4.comp).
// Spec constants: 0..2 workgroup size (wx, wy, 1).
// Dispatch: (ceil(shape.w / wx), ceil(shape.z / wy), shape.x * shape.y), split into several dispatches (with
//   offsets) where that exceeds the device's group counts.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;

layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer X;
layout(std430, binding = 1) writeonly buffer O { WIDE_T o[]; };

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
  const int at = int(i0 * pc.st.x + i1 * pc.st.y + i2 * pc.st.z + 2u * i3);
  o[out_i] = to_wide(imageLoad(X, at), imageLoad(X, at + 1));
}
