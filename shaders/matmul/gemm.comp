// Batched GEMM: out[b][m][n] = alpha * sum_k a[b][m][k] * B[b][k][n] (+ bias[n]) (+ res[b][m][n]),
// with B stored [K][N] or, when TRANS_B, [N][K]; B's batch stride may be 0 (broadcast).
// Bindings: 0 a, 1 b, 2 bias (dummy when unused), 3 residual (dummy when unused), 4 out.
// Push constants: M, N, K, a/b/out batch strides (elements), alpha, flags (1 bias, 2 residual).
// Spec constants: 3..7 BM, BN, BK, TM, TN (gemm_tile.glsl); 8 TRANS_B.
// Dispatch: (ceil(N / BN), ceil(M / BM), batch) workgroups of (BM/TM)*(BN/TN) invocations.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;
layout(constant_id = 8) const bool TRANS_B = false;

layout(std430, binding = 0) readonly buffer A { STORE_T a[]; };
layout(std430, binding = 1) readonly buffer B { STORE_T b[]; };
layout(std430, binding = 2) readonly buffer Bias { STORE_T bias[]; };
layout(std430, binding = 3) readonly buffer Res { STORE_T res[]; };
layout(std430, binding = 4) writeonly buffer O { STORE_T o[]; };
layout(push_constant) uniform PC {
  uint M, N, K;
  uint sa, sb, so;
  float alpha;
  uint flags;
} pc;

float gemm_load_a(uint batch, uint m, uint k) {
  return (m < pc.M && k < pc.K) ? float(a[batch * pc.sa + m * pc.K + k]) : 0.0;
}
float gemm_load_b(uint batch, uint k, uint n) {
  if (k >= pc.K || n >= pc.N) return 0.0;
  return TRANS_B ? float(b[batch * pc.sb + n * pc.K + k]) : float(b[batch * pc.sb + k * pc.N + n]);
}
#include "gemm_tile.glsl"

void main() {
  uint batch = gl_WorkGroupID.z;
  uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
  gemm_tile(batch, m0, n0, pc.M, pc.N, pc.K);
  uint tx = gemm_tx(), ty = gemm_ty();
  [[unroll]] for (uint i = 0; i < TM; ++i) {
    uint m = m0 + ty * TM + i;
    [[unroll]] for (uint j = 0; j < TN; ++j) {
      uint n = n0 + tx * TN + j;
      if (m < pc.M && n < pc.N) {
        float v = pc.alpha * gemm_acc[i][j];
        if ((pc.flags & 1u) != 0u) v += float(bias[n]);
        uint oi = batch * pc.so + m * pc.N + n;
        if ((pc.flags & 2u) != 0u) v += float(res[oi]);
        o[oi] = STORE_T(v);
      }
    }
  }
}
