// NT GEMM for devices with 8-wide subgroups and subgroup shuffles (lavapipe), reading both operands through
// storage texel buffers (imageLoad of 4 values of k per texel):
//   out[m][n] = alpha * sum_k a[m][k] * w[n][k] (+ bias[n]) (+ res[m][n])
// Why (measured on Mesa 22.3 llvmpipe, see core/ops/matmul.cpp): SSBO and shared loads run as per-lane scalar
// loops, imageLoad/texelFetch go through the vectorised texture path (~3-5x faster per value); subgroupShuffle
// is ~1.6x cheaper than subgroupBroadcast; the hot loop must be written out (no [[unroll]] loops, no arrays).
// Each invocation keeps 24 accumulators: rows m0..m0+7 (shared by the subgroup: lane l loads the texels of row
// m0 + l, the others take them by shuffle) x columns n0, n0 + 8, n0 + 16 (its own loads). Eight rows rather than
// four halve the B texel loads per FMA, which dominate on lavapipe (+25-30% on the benchmark's GEMMs and convs).
// Bindings: 0 a imageBuffer [M][K/4] (rgba32f, or rgba16f for 16-bit storage), 1 w imageBuffer [N][K/4],
//   2 bias [N] (dummy when unused), 3 residual [M][N] (dummy when unused), 4 out [M][N] (STORE_T).
// Push constants: M, N, K4 (= K / 4, even), alpha, flags (1 bias[n], 2 residual, 4 bias[m]: conv2d), and the
// batch strides of a and w (texels) and of out/residual (values): batch z multiplies [M][K] by [N][K]^T (attention),
// and ldo, the row stride of out/residual (N, or wider when out is a column block of a larger matrix: conv2d chunks).
// A workgroup's subgroups take consecutive blocks of 8 rows over the same 24 columns: llvmpipe runs them one
// after another on one core, so they find w's columns in cache (see texel_wg in core/ops/matmul.cpp).
// Spec constants: 0..2 workgroup size (8 .. 64: 1 to 8 subgroups of 8, as many as M needs).
// Dispatch: (ceil(N / 24), ceil(M / (8 * subgroups per workgroup)), batches).
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
layout(std430, binding = 3) readonly buffer Res { STORE_T res[]; };
layout(std430, binding = 4) writeonly buffer O { STORE_T o[]; };
layout(push_constant) uniform PC {
  uint M, N, K4;
  float alpha;
  uint flags;
  uint sa4, sw4, so, ldo;
} pc;

#define ROW(I, C, Q)                                                  \
  {                                                                   \
    float a = subgroupShuffle(av##Q.C, uint(I));                      \
    c##I##0 = fma(a, b0_##Q.C, c##I##0);                              \
    c##I##1 = fma(a, b1_##Q.C, c##I##1);                              \
    c##I##2 = fma(a, b2_##Q.C, c##I##2);                              \
  }
#define STEP(C, Q) ROW(0, C, Q) ROW(1, C, Q) ROW(2, C, Q) ROW(3, C, Q) ROW(4, C, Q) ROW(5, C, Q) ROW(6, C, Q) ROW(7, C, Q)

void main() {
  const uint lane = gl_SubgroupInvocationID;
  const uint n0 = gl_WorkGroupID.x * 24u + lane;
  const uint m0 = (gl_WorkGroupID.y * gl_NumSubgroups + gl_SubgroupID) * 8u;
  const int K4 = int(pc.K4);
  // Rows/columns past the edge read a valid row (clamped) and are not stored.
  const uint z = gl_WorkGroupID.z;
  const int ar = int(z * pc.sa4) + int(min(m0 + lane, pc.M - 1u)) * K4;
  const int bz = int(z * pc.sw4);
  const int br0 = bz + int(min(n0, pc.N - 1u)) * K4;
  const int br1 = bz + int(min(n0 + 8u, pc.N - 1u)) * K4;
  const int br2 = bz + int(min(n0 + 16u, pc.N - 1u)) * K4;
  float c00 = 0.0, c01 = 0.0, c02 = 0.0, c10 = 0.0, c11 = 0.0, c12 = 0.0;
  float c20 = 0.0, c21 = 0.0, c22 = 0.0, c30 = 0.0, c31 = 0.0, c32 = 0.0;
  float c40 = 0.0, c41 = 0.0, c42 = 0.0, c50 = 0.0, c51 = 0.0, c52 = 0.0;
  float c60 = 0.0, c61 = 0.0, c62 = 0.0, c70 = 0.0, c71 = 0.0, c72 = 0.0;
  for (int k4 = 0; k4 < K4; k4 += 2) {
    vec4 av0 = imageLoad(A, ar + k4), av1 = imageLoad(A, ar + k4 + 1);
    vec4 b0_0 = imageLoad(Wt, br0 + k4), b1_0 = imageLoad(Wt, br1 + k4), b2_0 = imageLoad(Wt, br2 + k4);
    vec4 b0_1 = imageLoad(Wt, br0 + k4 + 1), b1_1 = imageLoad(Wt, br1 + k4 + 1), b2_1 = imageLoad(Wt, br2 + k4 + 1);
    STEP(x, 0) STEP(y, 0) STEP(z, 0) STEP(w, 0)
    STEP(x, 1) STEP(y, 1) STEP(z, 1) STEP(w, 1)
  }
  float acc[24] = float[24](c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32, c40, c41, c42, c50, c51,
                            c52, c60, c61, c62, c70, c71, c72);
  for (uint i = 0u; i < 8u; ++i) {
    uint m = m0 + i;
    for (uint j = 0u; j < 3u; ++j) {
      uint n = n0 + 8u * j;
      if (m < pc.M && n < pc.N) {
        float v = pc.alpha * acc[i * 3u + j];
        if ((pc.flags & 1u) != 0u) v += float(bias[n]);
        if ((pc.flags & 4u) != 0u) v += float(bias[m]);
        uint oi = z * pc.so + m * pc.ldo + n;
        if ((pc.flags & 2u) != 0u) v += float(res[oi]);
        o[oi] = STORE_T(v);
      }
    }
  }
}
