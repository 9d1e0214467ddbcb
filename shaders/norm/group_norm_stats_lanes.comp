// group_norm_stats.comp for a CPU device: one invocation per chunk of a group (no shared memory, no barrier),
// x read as texels of 4 values (imageLoad: vectorised on llvmpipe, where an SSBO access runs a loop over the
// lanes). The same partials: (chunk mean, chunk M2) from sums of x - K, K = the group's first element.
// Bindings: 0 x imageBuffer (rgba32f / rgba16f; the window of groups [g0, g0 + ng)), 1 partials (vec2, out).
// Push constants: x_base4 (texels from the binding's start to group g0), L, chunk (L and chunk multiples of 4),
// P, part_base, total (= ng * P), row_stride.
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d(total, wg); e = gid.y * row_stride + gid.x = g * P + j.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer X;
layout(std430, binding = 1) writeonly buffer P { vec2 partials[]; };

layout(push_constant) uniform PC {
  uint x_base4, L, chunk, P, part_base, total, row_stride;
} pc;

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const uint g = e / pc.P, j = e - g * pc.P;
  const uint gstart4 = pc.x_base4 + g * (pc.L / 4u);
  const uint cbeg = j * pc.chunk, cend = min(cbeg + pc.chunk, pc.L);
  const float K = imageLoad(X, int(gstart4)).x;
  vec4 s = vec4(0.0), q = vec4(0.0);
  for (uint i = (cbeg / 4u); i < cend / 4u; ++i) {
    const vec4 v = imageLoad(X, int(gstart4 + i)) - K;
    s += v;
    q += v * v;
  }
  const vec2 tot = vec2((s.x + s.y) + (s.z + s.w), (q.x + q.y) + (q.z + q.w));
  const float n = float(cend - cbeg), m = tot.x / n;
  partials[(pc.part_base + g) * pc.P + j] = vec2(K + m, max(tot.y - tot.x * m, 0.0));
}
