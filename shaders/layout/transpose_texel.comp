// transpose.comp for a CPU device: x [B, R, C] -> out [B, C, R] with C % 4 == 0 and R % 8 == 0, one invocation
// per block of 8 rows x 4 columns: 8 texel reads (imageLoad: vectorised gathers on llvmpipe) and 4 stores of 8
// values (wide_store.glsl). Why (measured on Mesa 22.3 llvmpipe): the shared-memory tile of transpose.comp moves
// one value per SSBO access, and each access there is a loop over the lanes; a barrier switches between the
// workgroup's subgroups. Attention's V^T and its transposed output are such transposes.
// Bindings: 0 x imageBuffer [B][R][C/4] (rgba32f, or rgba16f), 1 out [B][C][R/8] (WIDE_T).
// Push constants: R, C, total (= B * R/8 * C/4), row_stride.
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d(total, wg); e = gid.y * row_stride + gid.x, row blocks fastest (the lanes' stores then fill
// consecutive pieces of the same output rows).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;

layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer X;
layout(std430, binding = 1) writeonly buffer O { WIDE_T o[]; };
layout(push_constant) uniform PC {
  uint R, C, total, row_stride;
} pc;

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const uint R8 = pc.R / 8u, C4 = pc.C / 4u;
  const uint r8 = e % R8, t = e / R8, c4 = t % C4, b = t / C4;
  const int at = int((b * pc.R + 8u * r8) * C4 + c4);
  const vec4 v0 = imageLoad(X, at), v1 = imageLoad(X, at + int(C4)), v2 = imageLoad(X, at + int(2u * C4));
  const vec4 v3 = imageLoad(X, at + int(3u * C4)), v4 = imageLoad(X, at + int(4u * C4));
  const vec4 v5 = imageLoad(X, at + int(5u * C4)), v6 = imageLoad(X, at + int(6u * C4));
  const vec4 v7 = imageLoad(X, at + int(7u * C4));
  const uint row = (b * pc.C + 4u * c4) * R8 + r8;  // out row c = 4 * c4 + j, in units of 8 values
  o[row] = to_wide(vec4(v0.x, v1.x, v2.x, v3.x), vec4(v4.x, v5.x, v6.x, v7.x));
  o[row + R8] = to_wide(vec4(v0.y, v1.y, v2.y, v3.y), vec4(v4.y, v5.y, v6.y, v7.y));
  o[row + 2u * R8] = to_wide(vec4(v0.z, v1.z, v2.z, v3.z), vec4(v4.z, v5.z, v6.z, v7.z));
  o[row + 3u * R8] = to_wide(vec4(v0.w, v1.w, v2.w, v3.w), vec4(v4.w, v5.w, v6.w, v7.w));
}
