// NT GEMM for devices with 8-wide subgroups and subgroup shuffles (lavapipe), reading both operands through
// storage texel buffers (imageLoad of 4 values of k per texel):
//   out[m][n] = alpha * sum_k a[m][k] * w[n][k] (+ bias[n]) (+ res[m][n])
// Why (measured on Mesa 22.3 llvmpipe, see core/ops/matmul.cpp): SSBO and shared loads run as per-lane scalar
// loops, imageLoad/texelFetch go through the vectorised texture path (~3-5x faster per value); subgroupShuffle
// is ~1.6x cheaper than subgroupBroadcast; the hot loop must be written out (no [[unroll]] loops, no arrays).
// Each invocation keeps 96 accumulators: rows m0 .. m0 + 23 (shared by the subgroup: lane l loads the texels of
// rows m0 + l, m0 + 8 + l and m0 + 16 + l, the others take them by shuffle) x 4 consecutive columns n0 .. n0 + 3
// (its own loads). Measured on lavapipe (Zen 1, AVX2), each step mattered:
// - 4 consecutive columns per lane: each row of results leaves in one 4-wide store (llvmpipe stores lane by
//   lane, and a vec4 store costs about what a scalar one does; short-K products such as attention's scores spent
//   about a third of their time storing);
// - a row's 4 products over one texel are summed before they are added to the accumulator: llvmpipe keeps most
//   accumulators on the stack, and one store per accumulator and texel instead of four halved the stack traffic;
// - 24 rows rather than 8: each texel of w then serves 24 rows (its gather is the loop's most expensive part).
// Matmul 21-24% -> 33-37% of the measured FMA peak, and the 8 x 3 tile these replaced could not be helped by
// loop order, fewer or more columns, or image stores (session 4's note).
// Bindings: 0 a imageBuffer [M][K/4] (rgba32f, or rgba16f for 16-bit storage), 1 w imageBuffer [N][K/4],
//   2 bias [N] (dummy when unused), 3 residual [M][N] (dummy when unused), 4 out [M][N] (STORE_T).
// Push constants: M, N, K4 (= K / 4, even), alpha, and the batch strides of a and w (texels) and of out/residual
// (values): batch z multiplies [M][K] by [N][K]^T (attention), and ldo, the row stride of out/residual (N, or wider
// when out is a column block of a larger matrix: conv2d chunks).
// A workgroup's subgroups take consecutive blocks of 24 rows over the same 32 columns: llvmpipe runs them one
// after another on one core, so they find w's columns in cache (see texel_wg in core/ops/matmul.cpp).
// Spec constants: 0..2 workgroup size (8 .. 64: 1 to 8 subgroups of 8, as many as M needs); 3 FLAGS: 1 bias[n],
// 2 residual, 4 bias[m] (conv2d), 8 rows of out/residual may be stored/read 4-wide (so, ldo % 4 == 0), 16 and
// 8-wide (wide_store.glsl: N, so, ldo % 8 == 0, out/residual bound at multiples of 8 values; halves the store
// instructions of short-K products such as attention's scores), 32 columns in blocks of ldo per image: column n
// of row m goes to (n / ldo) * so + m * ldo + n % ldo, so the images of a batch share the 32 columns of a
// workgroup where one image has fewer (conv2d's 4x4 levels: 16 pixels per image; z is 0, so is the image stride),
// 64 GEGLU of interleaved column halves (see the epilogue; with 8 and 1 at most, N % 8 == 0).
// Dispatch: (ceil(N / 32), ceil(M / (24 * subgroups per workgroup)), batches).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;
#include "norm_act.glsl"

layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer A;
layout(binding = 1, TEXEL4_FORMAT) uniform readonly imageBuffer Wt;
layout(std430, binding = 2) readonly buffer Bias { STORE_T bias[]; };
layout(std430, binding = 2) readonly buffer Bias4 { STORE_VEC4 bias4[]; };
layout(std430, binding = 3) readonly buffer Res { STORE_T res[]; };
layout(std430, binding = 3) readonly buffer Res4 { STORE_VEC4 res4[]; };
layout(std430, binding = 3) readonly buffer Res8 { WIDE_T res8[]; };
layout(std430, binding = 4) writeonly buffer O { STORE_T o[]; };
layout(std430, binding = 4) writeonly buffer O4 { STORE_VEC4 o4[]; };
layout(std430, binding = 4) writeonly buffer O8 { WIDE_T o8[]; };
layout(push_constant) uniform PC {
  uint M, N, K4;
  float alpha;
  uint sa4, sw4, so, ldo;
} pc;
// The epilogue's options as a specialization constant, not a push constant: llvmpipe runs both sides of every
// branch (masked) unless it can drop one at compile time, and the epilogue variants cost more than a short-K
// product's loop (attention's scores, K = 40, one chunk at 512x512: 74 -> 45 ms; matmul 37% -> 39.5% of the peak).
layout(constant_id = 3) const uint FLAGS = 0;

// Row I's 4 products over the texel's 4 values of k are summed first, then added once to each accumulator:
// llvmpipe keeps most of the 96 accumulators on the stack, and one store per accumulator and texel instead of
// four halved the stack traffic.
#define COL(I, J, B) c##I##_##J += fma(a3, B.w, fma(a2, B.z, fma(a1, B.y, a0 * B.x)));
#define ROWV(I, V, L)                                                                                     \
  {                                                                                                       \
    const float a0 = subgroupShuffle(V.x, uint(L)), a1 = subgroupShuffle(V.y, uint(L));                   \
    const float a2 = subgroupShuffle(V.z, uint(L)), a3 = subgroupShuffle(V.w, uint(L));                   \
    COL(I, 0, b0) COL(I, 1, b1) COL(I, 2, b2) COL(I, 3, b3)                                               \
  }

// Where row m's column n of batch z is in out/residual.
uint out_at(uint z, uint m, uint n) {
  if ((FLAGS & 32u) != 0u) return (n / pc.ldo) * pc.so + m * pc.ldo + n % pc.ldo;
  return z * pc.so + m * pc.ldo + n;
}

void main() {
  const uint lane = gl_SubgroupInvocationID;
  const uint n0 = gl_WorkGroupID.x * 32u + 4u * lane;
  const uint m0 = (gl_WorkGroupID.y * gl_NumSubgroups + gl_SubgroupID) * 24u;
  const int K4 = int(pc.K4);
  // Rows/columns past the edge read a valid row (clamped) and are not stored.
  const uint z = gl_WorkGroupID.z;
  const int ar0 = int(z * pc.sa4) + int(min(m0 + lane, pc.M - 1u)) * K4;
  const int ar1 = int(z * pc.sa4) + int(min(m0 + 8u + lane, pc.M - 1u)) * K4;
  const int ar2 = int(z * pc.sa4) + int(min(m0 + 16u + lane, pc.M - 1u)) * K4;
  const int bz = int(z * pc.sw4);
  const int br0 = bz + int(min(n0, pc.N - 1u)) * K4;
  const int br1 = bz + int(min(n0 + 1u, pc.N - 1u)) * K4;
  const int br2 = bz + int(min(n0 + 2u, pc.N - 1u)) * K4;
  const int br3 = bz + int(min(n0 + 3u, pc.N - 1u)) * K4;
  float c0_0 = 0.0, c0_1 = 0.0, c0_2 = 0.0, c0_3 = 0.0;
  float c1_0 = 0.0, c1_1 = 0.0, c1_2 = 0.0, c1_3 = 0.0;
  float c2_0 = 0.0, c2_1 = 0.0, c2_2 = 0.0, c2_3 = 0.0;
  float c3_0 = 0.0, c3_1 = 0.0, c3_2 = 0.0, c3_3 = 0.0;
  float c4_0 = 0.0, c4_1 = 0.0, c4_2 = 0.0, c4_3 = 0.0;
  float c5_0 = 0.0, c5_1 = 0.0, c5_2 = 0.0, c5_3 = 0.0;
  float c6_0 = 0.0, c6_1 = 0.0, c6_2 = 0.0, c6_3 = 0.0;
  float c7_0 = 0.0, c7_1 = 0.0, c7_2 = 0.0, c7_3 = 0.0;
  float c8_0 = 0.0, c8_1 = 0.0, c8_2 = 0.0, c8_3 = 0.0;
  float c9_0 = 0.0, c9_1 = 0.0, c9_2 = 0.0, c9_3 = 0.0;
  float c10_0 = 0.0, c10_1 = 0.0, c10_2 = 0.0, c10_3 = 0.0;
  float c11_0 = 0.0, c11_1 = 0.0, c11_2 = 0.0, c11_3 = 0.0;
  float c12_0 = 0.0, c12_1 = 0.0, c12_2 = 0.0, c12_3 = 0.0;
  float c13_0 = 0.0, c13_1 = 0.0, c13_2 = 0.0, c13_3 = 0.0;
  float c14_0 = 0.0, c14_1 = 0.0, c14_2 = 0.0, c14_3 = 0.0;
  float c15_0 = 0.0, c15_1 = 0.0, c15_2 = 0.0, c15_3 = 0.0;
  float c16_0 = 0.0, c16_1 = 0.0, c16_2 = 0.0, c16_3 = 0.0;
  float c17_0 = 0.0, c17_1 = 0.0, c17_2 = 0.0, c17_3 = 0.0;
  float c18_0 = 0.0, c18_1 = 0.0, c18_2 = 0.0, c18_3 = 0.0;
  float c19_0 = 0.0, c19_1 = 0.0, c19_2 = 0.0, c19_3 = 0.0;
  float c20_0 = 0.0, c20_1 = 0.0, c20_2 = 0.0, c20_3 = 0.0;
  float c21_0 = 0.0, c21_1 = 0.0, c21_2 = 0.0, c21_3 = 0.0;
  float c22_0 = 0.0, c22_1 = 0.0, c22_2 = 0.0, c22_3 = 0.0;
  float c23_0 = 0.0, c23_1 = 0.0, c23_2 = 0.0, c23_3 = 0.0;
  for (int k4 = 0; k4 < K4; ++k4) {
    vec4 av0 = imageLoad(A, ar0 + k4), av1 = imageLoad(A, ar1 + k4), av2 = imageLoad(A, ar2 + k4);
    vec4 b0 = imageLoad(Wt, br0 + k4), b1 = imageLoad(Wt, br1 + k4), b2 = imageLoad(Wt, br2 + k4);
    vec4 b3 = imageLoad(Wt, br3 + k4);
    ROWV(0, av0, 0) ROWV(1, av0, 1) ROWV(2, av0, 2) ROWV(3, av0, 3) ROWV(4, av0, 4) ROWV(5, av0, 5)
    ROWV(6, av0, 6) ROWV(7, av0, 7) ROWV(8, av1, 0) ROWV(9, av1, 1) ROWV(10, av1, 2) ROWV(11, av1, 3)
    ROWV(12, av1, 4) ROWV(13, av1, 5) ROWV(14, av1, 6) ROWV(15, av1, 7) ROWV(16, av2, 0) ROWV(17, av2, 1)
    ROWV(18, av2, 2) ROWV(19, av2, 3) ROWV(20, av2, 4) ROWV(21, av2, 5) ROWV(22, av2, 6) ROWV(23, av2, 7)
  }
  vec4 bn = vec4(0.0);
  if ((FLAGS & 1u) != 0u) {
    if ((FLAGS & 8u) != 0u && n0 + 3u < pc.N) bn = vec4(bias4[n0 / 4u]);
    else
      for (uint j = 0u; j < 4u; ++j) bn[j] = n0 + j < pc.N ? float(bias[n0 + j]) : 0.0;
  }
  if ((FLAGS & 64u) != 0u) {
    // GEGLU, y = x[:, :F] * gelu(x[:, F:]), of a product whose columns come interleaved in blocks of 8: 4 of the
    // first half, then the same 4 of the second (ops::linear_geglu). Lane 2p holds values, lane 2p + 1 their gates;
    // for each two rows they swap one row's worth, so the even lane finishes the first row and the odd lane the
    // second (each GELU computed once), each storing 4 of out's N / 2 columns (row stride ldo; FLAGS 8 required).
    const bool odd = (lane & 1u) != 0u;
    const uint nh = (n0 - (odd ? 4u : 0u)) / 2u;
#define GEGLU_PAIR(I, J)                                                                                  \
    {                                                                                                     \
      const vec4 v0 = pc.alpha * vec4(c##I##_0, c##I##_1, c##I##_2, c##I##_3) + bn;                      \
      const vec4 v1 = pc.alpha * vec4(c##J##_0, c##J##_1, c##J##_2, c##J##_3) + bn;                      \
      const vec4 got = subgroupShuffleXor(odd ? v0 : v1, 1u);                                             \
      const vec4 a = odd ? got : v0, g = odd ? v1 : got;                                                  \
      const uint m = m0 + (odd ? J : I);                                                                  \
      if (m < pc.M && 2u * nh < pc.N)                                                                     \
        o4[(z * pc.so + m * pc.ldo + nh) / 4u] =                                                          \
            STORE_VEC4(a * vec4(act_gelu(g.x), act_gelu(g.y), act_gelu(g.z), act_gelu(g.w)));              \
    }
    GEGLU_PAIR(0, 1) GEGLU_PAIR(2, 3) GEGLU_PAIR(4, 5) GEGLU_PAIR(6, 7) GEGLU_PAIR(8, 9) GEGLU_PAIR(10, 11)
    GEGLU_PAIR(12, 13) GEGLU_PAIR(14, 15) GEGLU_PAIR(16, 17) GEGLU_PAIR(18, 19) GEGLU_PAIR(20, 21)
    GEGLU_PAIR(22, 23)
    return;
  }
  if ((FLAGS & 16u) != 0u) {
    // 8-wide rows: the lanes of a pair (2p, 2p + 1) own 8 consecutive columns; for each two rows they swap
    // halves, so the even lane stores the first row's 8 values and the odd lane the second's, one store each.
    const bool odd = (lane & 1u) != 0u;
    const uint nw = n0 - (odd ? 4u : 0u);
#define PAIR(I, J)                                                                                        \
    {                                                                                                     \
      vec4 v0 = pc.alpha * vec4(c##I##_0, c##I##_1, c##I##_2, c##I##_3) + bn;                             \
      vec4 v1 = pc.alpha * vec4(c##J##_0, c##J##_1, c##J##_2, c##J##_3) + bn;                             \
      if ((FLAGS & 4u) != 0u) {                                                                           \
        v0 += float(bias[min(m0 + I, pc.M - 1u)]);                                                        \
        v1 += float(bias[min(m0 + J, pc.M - 1u)]);                                                        \
      }                                                                                                   \
      const vec4 got = subgroupShuffleXor(odd ? v0 : v1, 1u);                                             \
      vec4 lo = odd ? got : v0, hi = odd ? v1 : got;                                                      \
      const uint m = m0 + I + (odd ? 1u : 0u);                                                            \
      if (m < pc.M && nw < pc.N) {                                                                        \
        const uint oi = out_at(z, m, nw) / 8u;                                                            \
        if ((FLAGS & 2u) != 0u) {                                                                         \
          const WIDE_T r = res8[oi];                                                                      \
          lo += wide_lo(r);                                                                               \
          hi += wide_hi(r);                                                                               \
        }                                                                                                 \
        o8[oi] = to_wide(lo, hi);                                                                         \
      }                                                                                                   \
    }
    PAIR(0, 1) PAIR(2, 3) PAIR(4, 5) PAIR(6, 7) PAIR(8, 9) PAIR(10, 11)
    PAIR(12, 13) PAIR(14, 15) PAIR(16, 17) PAIR(18, 19) PAIR(20, 21) PAIR(22, 23)
    return;
  }
  const vec4 acc[24] = vec4[24](
      vec4(c0_0, c0_1, c0_2, c0_3), vec4(c1_0, c1_1, c1_2, c1_3), vec4(c2_0, c2_1, c2_2, c2_3),
      vec4(c3_0, c3_1, c3_2, c3_3), vec4(c4_0, c4_1, c4_2, c4_3), vec4(c5_0, c5_1, c5_2, c5_3),
      vec4(c6_0, c6_1, c6_2, c6_3), vec4(c7_0, c7_1, c7_2, c7_3), vec4(c8_0, c8_1, c8_2, c8_3),
      vec4(c9_0, c9_1, c9_2, c9_3), vec4(c10_0, c10_1, c10_2, c10_3), vec4(c11_0, c11_1, c11_2, c11_3),
      vec4(c12_0, c12_1, c12_2, c12_3), vec4(c13_0, c13_1, c13_2, c13_3), vec4(c14_0, c14_1, c14_2, c14_3),
      vec4(c15_0, c15_1, c15_2, c15_3), vec4(c16_0, c16_1, c16_2, c16_3), vec4(c17_0, c17_1, c17_2, c17_3),
      vec4(c18_0, c18_1, c18_2, c18_3), vec4(c19_0, c19_1, c19_2, c19_3), vec4(c20_0, c20_1, c20_2, c20_3),
      vec4(c21_0, c21_1, c21_2, c21_3), vec4(c22_0, c22_1, c22_2, c22_3), vec4(c23_0, c23_1, c23_2, c23_3));
  const bool whole4 = (FLAGS & 8u) != 0u && n0 + 3u < pc.N;
  for (uint i = 0u; i < 24u; ++i) {
    const uint m = m0 + i;
    if (m >= pc.M) break;
    vec4 v = pc.alpha * acc[i] + bn;
    if ((FLAGS & 4u) != 0u) v += float(bias[m]);
    if (whole4) {
      const uint oi = out_at(z, m, n0) / 4u;
      if ((FLAGS & 2u) != 0u) v += vec4(res4[oi]);
      o4[oi] = STORE_VEC4(v);
    } else {
      for (uint j = 0u; j < 4u; ++j) {
        if (n0 + j < pc.N) {
          const uint oi = out_at(z, m, n0 + j);
          float e = v[j];
          if ((FLAGS & 2u) != 0u) e += float(res[oi]);
          o[oi] = STORE_T(e);
        }
      }
    }
  }
}
