// GroupNorm, between the two passes: merge each group's P chunk statistics (Chan et al.'s
// pairwise update, exact for any chunk sizes) into (mean, 1 / sqrt(var + eps)).
// Bindings: 0 partials (vec2 float: chunk mean, chunk M2; from group_norm_stats), 1 stats
//   (vec2 float, out): stats[g] = (mean, rstd) for g in [0, groups).
// Push constants: groups, L (elements per group), chunk, P (chunks per group), eps.
// Spec constants: 0..2 workgroup size.
// Dispatch: (ceil(groups / wg_x), 1, 1); one invocation per group.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer P { vec2 partials[]; };
layout(std430, binding = 1) writeonly buffer S { vec2 stats[]; };

layout(push_constant) uniform PC {
  uint groups;
  uint L;
  uint chunk;
  uint P;
  float eps;
} pc;

void main() {
  uint g = gl_GlobalInvocationID.x;
  if (g >= pc.groups) return;
  uint pb = g * pc.P;
  vec2 st = partials[pb];
  float n = float(min(pc.chunk, pc.L));
  float mean = st.x, m2 = st.y;
  for (uint j = 1u; j < pc.P; ++j) {
    vec2 sj = partials[pb + j];
    float nj = float(min(pc.chunk, pc.L - j * pc.chunk));
    float nn = n + nj;
    float d = sj.x - mean;
    mean += d * (nj / nn);
    m2 += sj.y + d * d * (n * nj / nn);
    n = nn;
  }
  stats[g] = vec2(mean, inversesqrt(m2 / n + pc.eps));
}
