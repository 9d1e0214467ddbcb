// 2-D convolution as an implicit GEMM (no materialised im2col), NCHW:
//   out[b][o][p] = sum_k w[o][k] * X_col[b][k][p] (+ bias[o]) (+ res[b][o][p])
// with k = (c, ky, kx) over C*KH*KW, p = (oy, ox) over Ho*Wo, and
//   X_col[b][k][p] = x[b][c][oy*STRIDE - pad + ky][ox*STRIDE - pad + kx] (0 in the padding).
// Bindings: 0 x [N, C, H, W], 1 w [O, C, KH, KW], 2 bias [O] (dummy when unused),
//   3 residual [N, O, Ho, Wo] (dummy when unused), 4 out [N, O, Ho, Wo].
// Tensors larger than one binding are bound in windows: a block of input channels (C of them) and output
// channels (O of them) of a few images; *_base are the elements from each binding's start to the window's
// first value, x_bstride / o_bstride the elements between images, ldw the weight's row length (all input
// channels). With several input-channel blocks, the host passes the output itself as the residual of every
// block after the first (partial sums).
// Push constants: C, H, W, O, Ho, Wo, pad, flags (1 bias, 2 residual), inv_wo (1/Wo as float), x_base,
//   x_bstride, w_base, ldw, b_base, r_base, o_base, o_bstride.
// Spec constants: 3..7 BM, BN, BK, TM, TN (gemm_tile.glsl); 8 KH, 9 KW, 10 STRIDE.
// Dispatch: (ceil(Ho*Wo / BN), ceil(O / BM), N) workgroups of (BM/TM)*(BN/TN) invocations.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;
layout(constant_id = 8) const uint KH = 3;
layout(constant_id = 9) const uint KW = 3;
layout(constant_id = 10) const uint STRIDE = 1;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) readonly buffer Wt { STORE_T w[]; };
layout(std430, binding = 2) readonly buffer Bias { STORE_T bias[]; };
layout(std430, binding = 3) readonly buffer Res { STORE_T res[]; };
layout(std430, binding = 4) writeonly buffer O { STORE_T o[]; };
layout(push_constant) uniform PC {
  uint C, H, W, O, Ho, Wo, pad, flags;
  float inv_wo;
  uint x_base, x_bstride, w_base, ldw, b_base, r_base, o_base, o_bstride;
} pc;

uint conv_k() { return pc.C * KH * KW; }
uint conv_p() { return pc.Ho * pc.Wo; }

// A = weights [O][C*KH*KW].
float gemm_load_a(uint batch, uint m, uint k) {
  uint K = conv_k();
  return (m < pc.O && k < K) ? float(w[pc.w_base + m * pc.ldw + k]) : 0.0;
}
// B = the implicit im2col matrix [C*KH*KW][Ho*Wo] of image `batch`.
float gemm_load_b(uint batch, uint k, uint n) {
  if (k >= conv_k() || n >= conv_p()) return 0.0;
  uint c = k / (KH * KW), r = k % (KH * KW);  // divisions by spec constants
  uint ky = r / KW, kx = r % KW;
  // n / Wo through the float reciprocal, corrected to the exact quotient.
  uint oy = uint(float(n) * pc.inv_wo);
  if (oy * pc.Wo > n) oy -= 1u;
  else if ((oy + 1u) * pc.Wo <= n) oy += 1u;
  uint ox = n - oy * pc.Wo;
  int iy = int(oy * STRIDE + ky) - int(pc.pad);
  int ix = int(ox * STRIDE + kx) - int(pc.pad);
  if (iy < 0 || ix < 0 || iy >= int(pc.H) || ix >= int(pc.W)) return 0.0;
  return float(x[pc.x_base + batch * pc.x_bstride + (c * pc.H + uint(iy)) * pc.W + uint(ix)]);
}
#include "gemm_tile.glsl"

void main() {
  uint batch = gl_WorkGroupID.z;
  uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
  uint P = conv_p();
  gemm_tile(batch, m0, n0, pc.O, P, conv_k());
  uint tx = gemm_tx(), ty = gemm_ty();
  [[unroll]] for (uint i = 0; i < TM; ++i) {
    uint m = m0 + ty * TM + i;
    [[unroll]] for (uint j = 0; j < TN; ++j) {
      uint n = n0 + tx * TN + j;
      if (m < pc.O && n < P) {
        float v = gemm_acc[i][j];
        if ((pc.flags & 1u) != 0u) v += float(bias[pc.b_base + m]);
        uint oi = batch * pc.o_bstride + m * P + n;
        if ((pc.flags & 2u) != 0u) v += float(res[pc.r_base + oi]);
        o[pc.o_base + oi] = STORE_T(v);
      }
    }
  }
}
