// NT GEMM for devices with 8-wide subgroups and subgroup shuffles (lavapipe), reading both operands through
// storage texel buffers (imageLoad of 4 values of k per texel):
//   out[m][n] = alpha * sum_k a[m][k] * w[n][k] (+ bias[n]) (+ res[m][n])
// Why (measured on Mesa 22.3 llvmpipe, see core/ops/matmul.cpp): SSBO and shared loads run as per-lane scalar
// loops, imageLoad/texelFetch go through the vectorised texture path (~3-5x faster per value); subgroupShuffle
// is ~1.6x cheaper than subgroupBroadcast; the hot loop must be written out (no [[unroll]] loops, no arrays).
// Each invocation keeps 32 accumulators: rows m0..m0+7 (shared by the subgroup: lane l loads the texels of row
// m0 + l, the others take them by shuffle) x 4 consecutive columns n0 .. n0 + 3 (its own loads), so that each row
// of its results leaves in one 4-wide store: llvmpipe stores lane by lane, and 8 vec4 stores cost about what 8
// scalar ones do (short-K products such as attention's scores spent about a third of their time storing).
// Bindings: 0 a imageBuffer [M][K/4] (rgba32f, or rgba16f for 16-bit storage), 1 w imageBuffer [N][K/4],
//   2 bias [N] (dummy when unused), 3 residual [M][N] (dummy when unused), 4 out [M][N] (STORE_T).
// Push constants: M, N, K4 (= K / 4, even), alpha, flags (1 bias[n], 2 residual, 4 bias[m]: conv2d, 8 rows of
// out/residual may be stored/read 4-wide: so, ldo % 4 == 0), and the batch strides of a and w (texels) and of
// out/residual (values): batch z multiplies [M][K] by [N][K]^T (attention), and ldo, the row stride of
// out/residual (N, or wider when out is a column block of a larger matrix: conv2d chunks).
// A workgroup's subgroups take consecutive blocks of 8 rows over the same 32 columns: llvmpipe runs them one
// after another on one core, so they find w's columns in cache (see texel_wg in core/ops/matmul.cpp).
// Spec constants: 0..2 workgroup size (8 .. 64: 1 to 8 subgroups of 8, as many as M needs).
// Dispatch: (ceil(N / 32), ceil(M / (8 * subgroups per workgroup)), batches).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "types.glsl"
VKD_LOCAL_SIZE;

#if defined(VKD_VARIANT_F32)
#define TEXEL_FORMAT rgba32f
#else
#define TEXEL_FORMAT rgba16f
#endif
layout(binding = 0, TEXEL_FORMAT) uniform readonly imageBuffer A;
layout(binding = 1, TEXEL_FORMAT) uniform readonly imageBuffer Wt;
layout(std430, binding = 2) readonly buffer Bias { STORE_T bias[]; };
layout(std430, binding = 2) readonly buffer Bias4 { STORE_VEC4 bias4[]; };
layout(std430, binding = 3) readonly buffer Res { STORE_T res[]; };
layout(std430, binding = 3) readonly buffer Res4 { STORE_VEC4 res4[]; };
layout(std430, binding = 4) writeonly buffer O { STORE_T o[]; };
layout(std430, binding = 4) writeonly buffer O4 { STORE_VEC4 o4[]; };
layout(push_constant) uniform PC {
  uint M, N, K4;
  float alpha;
  uint flags;
  uint sa4, sw4, so, ldo;
} pc;

// Row I's 4 products over the texel's 4 values of k are summed first, then added once to each accumulator:
// llvmpipe keeps most of the 32 accumulators on the stack, and one store per accumulator and texel instead of
// four halved the stack traffic.
#define COL(I, J, B) c##I##J += fma(a3, B.w, fma(a2, B.z, fma(a1, B.y, a0 * B.x)));
#define ROW(I)                                                                                           \
  {                                                                                                      \
    const float a0 = subgroupShuffle(av.x, uint(I)), a1 = subgroupShuffle(av.y, uint(I));                \
    const float a2 = subgroupShuffle(av.z, uint(I)), a3 = subgroupShuffle(av.w, uint(I));                \
    COL(I, 0, b0) COL(I, 1, b1) COL(I, 2, b2) COL(I, 3, b3)                                              \
  }

void main() {
  const uint lane = gl_SubgroupInvocationID;
  const uint n0 = gl_WorkGroupID.x * 32u + 4u * lane;
  const uint m0 = (gl_WorkGroupID.y * gl_NumSubgroups + gl_SubgroupID) * 8u;
  const int K4 = int(pc.K4);
  // Rows/columns past the edge read a valid row (clamped) and are not stored.
  const uint z = gl_WorkGroupID.z;
  const int ar = int(z * pc.sa4) + int(min(m0 + lane, pc.M - 1u)) * K4;
  const int bz = int(z * pc.sw4);
  const int br0 = bz + int(min(n0, pc.N - 1u)) * K4;
  const int br1 = bz + int(min(n0 + 1u, pc.N - 1u)) * K4;
  const int br2 = bz + int(min(n0 + 2u, pc.N - 1u)) * K4;
  const int br3 = bz + int(min(n0 + 3u, pc.N - 1u)) * K4;
  float c00 = 0.0, c01 = 0.0, c02 = 0.0, c03 = 0.0, c10 = 0.0, c11 = 0.0, c12 = 0.0, c13 = 0.0;
  float c20 = 0.0, c21 = 0.0, c22 = 0.0, c23 = 0.0, c30 = 0.0, c31 = 0.0, c32 = 0.0, c33 = 0.0;
  float c40 = 0.0, c41 = 0.0, c42 = 0.0, c43 = 0.0, c50 = 0.0, c51 = 0.0, c52 = 0.0, c53 = 0.0;
  float c60 = 0.0, c61 = 0.0, c62 = 0.0, c63 = 0.0, c70 = 0.0, c71 = 0.0, c72 = 0.0, c73 = 0.0;
  for (int k4 = 0; k4 < K4; ++k4) {
    vec4 av = imageLoad(A, ar + k4);
    vec4 b0 = imageLoad(Wt, br0 + k4), b1 = imageLoad(Wt, br1 + k4), b2 = imageLoad(Wt, br2 + k4);
    vec4 b3 = imageLoad(Wt, br3 + k4);
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
  }
  vec4 acc[8] = vec4[8](vec4(c00, c01, c02, c03), vec4(c10, c11, c12, c13), vec4(c20, c21, c22, c23),
                        vec4(c30, c31, c32, c33), vec4(c40, c41, c42, c43), vec4(c50, c51, c52, c53),
                        vec4(c60, c61, c62, c63), vec4(c70, c71, c72, c73));
  const bool whole4 = (pc.flags & 8u) != 0u && n0 + 3u < pc.N;
  vec4 bn = vec4(0.0);
  if ((pc.flags & 1u) != 0u) {
    if (whole4) bn = vec4(bias4[n0 / 4u]);
    else
      for (uint j = 0u; j < 4u; ++j) bn[j] = n0 + j < pc.N ? float(bias[n0 + j]) : 0.0;
  }
  for (uint i = 0u; i < 8u; ++i) {
    const uint m = m0 + i;
    if (m >= pc.M) break;
    vec4 v = pc.alpha * acc[i] + bn;
    if ((pc.flags & 4u) != 0u) v += float(bias[m]);
    const uint oi = z * pc.so + m * pc.ldo + n0;
    if (whole4) {
      if ((pc.flags & 2u) != 0u) v += vec4(res4[oi / 4u]);
      o4[oi / 4u] = STORE_VEC4(v);
    } else {
      for (uint j = 0u; j < 4u; ++j) {
        if (n0 + j < pc.N) {
          float e = v[j];
          if ((pc.flags & 2u) != 0u) e += float(res[oi + j]);
          o[oi + j] = STORE_T(e);
        }
      }
    }
  }
}
