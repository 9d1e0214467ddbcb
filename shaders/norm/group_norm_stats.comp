// GroupNorm, pass 1 of 2: partial statistics of each chunk of each group.
// A group is L contiguous elements (channels_per_group x spatial); it is cut into P chunks of
// `chunk` elements (the last may be shorter); one workgroup reduces one chunk.
// Bindings: 0 x (STORE_T, the window of groups [g0, g0 + ng)), 1 partials (vec2 float, out):
//   partials[(part_base + g) * P + j] = (chunk mean, chunk M2 = sum (x - mean)^2).
// Push constants: x_base (elements from the binding start to group g0), L, chunk, P, part_base.
// Spec constants: 0..2 workgroup size (x a power of two), 3 VEC4 (1: x_base, L and chunk are
//   multiples of 4, load 4 at a time).
// Dispatch: (P, ng, 1).
// Sums are taken of x - K, K = the group's first element (shared by all chunks), in float, so
// that large means do not cancel the variance; chunks are merged exactly in pass 2.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;
#include "norm_reduce.glsl"

layout(constant_id = 3) const uint VEC4 = 0;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 0) readonly buffer X4 { STORE_VEC4 x4[]; };
layout(std430, binding = 1) writeonly buffer P { vec2 partials[]; };

layout(push_constant) uniform PC {
  uint x_base;
  uint L;
  uint chunk;
  uint P;
  uint part_base;
} pc;

void main() {
  uint g = gl_WorkGroupID.y;
  uint j = gl_WorkGroupID.x;
  uint t = gl_LocalInvocationID.x;
  uint WG = gl_WorkGroupSize.x;
  uint gstart = pc.x_base + g * pc.L;
  uint cbeg = j * pc.chunk;
  uint cend = min(cbeg + pc.chunk, pc.L);
  float K = float(x[gstart]);
  vec2 acc = vec2(0.0);  // (sum, sum of squares) of x - K
  if (VEC4 != 0u) {
    uint b4 = (gstart + cbeg) / 4u;
    uint e4 = (gstart + cend) / 4u;
    vec4 s = vec4(0.0), q = vec4(0.0);
    for (uint i = b4 + t; i < e4; i += WG) {
      vec4 v = vec4(x4[i]) - K;
      s += v;
      q += v * v;
    }
    acc = vec2(s.x + s.y + s.z + s.w, q.x + q.y + q.z + q.w);
  } else {
    for (uint i = gstart + cbeg + t; i < gstart + cend; i += WG) {
      float v = float(x[i]) - K;
      acc += vec2(v, v * v);
    }
  }
  vec2 tot = norm_reduce_sum2(acc);
  if (t == 0u) {
    float n = float(cend - cbeg);
    float m = tot.x / n;
    partials[(pc.part_base + g) * pc.P + j] = vec2(K + m, max(tot.y - tot.x * m, 0.0));
  }
}
