// Winograd F(4x4, 3x3) weight transform (see core/ops/conv2d_winograd.cpp): U = G g G^T for every (output
// channel o, input channel c), with G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6;
// 0 0 1] (Lavin & Gray's points 0, -1, 1, 1/2, -1/2). One invocation per (o, 4 consecutive input channels),
// reading their 36 weights as 9 texels and writing 4-wide. U is kept as six tensors U_r (r = the row of the 6x6
// tile), each [6 (column q)][O][C], so that each fits one binding.
// Bindings: 0 g imageBuffer [O][C][3][3] (rgba32f: 4 values per texel), 1..6 U_0..U_5 [6][O][C/4] (STORE_VEC4).
// A dispatch covers output channels o0 .. o0 + total / C4 - 1, g bound whole or as a window of those rows (its
// first texel at g_base).
// Push constants: O, C4 (= C / 4), total (= rows * C4), row_stride, o0, g_base.
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d(total, wg).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer G;
layout(std430, binding = 1) writeonly buffer U0 { STORE_VEC4 u0[]; };
layout(std430, binding = 2) writeonly buffer U1 { STORE_VEC4 u1[]; };
layout(std430, binding = 3) writeonly buffer U2 { STORE_VEC4 u2[]; };
layout(std430, binding = 4) writeonly buffer U3 { STORE_VEC4 u3[]; };
layout(std430, binding = 5) writeonly buffer U4 { STORE_VEC4 u4[]; };
layout(std430, binding = 6) writeonly buffer U5 { STORE_VEC4 u5[]; };
layout(push_constant) uniform PC {
  uint O, C4, total, row_stride, o0, g_base;
} pc;

// G applied to three values (a row or a column of 3): the 6 transformed values.
void g6(float a, float b, float c, out float r[6]) {
  r[0] = 0.25 * a;
  r[1] = -(a + b + c) / 6.0;
  r[2] = -(a - b + c) / 6.0;
  r[3] = a / 24.0 + b / 12.0 + c / 6.0;
  r[4] = a / 24.0 - b / 12.0 + c / 6.0;
  r[5] = c;
}

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const uint ol = e / pc.C4, o = pc.o0 + ol, c4 = e - ol * pc.C4;
  // The 4 channels' 36 weights are consecutive: 9 texels from a 16-byte aligned start.
  vec4 gt[9];
  const int base = int(pc.g_base + (ol * pc.C4 + c4) * 9u);
  [[unroll]] for (int i = 0; i < 9; ++i) gt[i] = imageLoad(G, base + i);
  vec4 u[36];
  [[unroll]] for (uint j = 0u; j < 4u; ++j) {
    float g[9];
    [[unroll]] for (uint i = 0u; i < 9u; ++i) g[i] = gt[(j * 9u + i) / 4u][(j * 9u + i) % 4u];
    // s = G g (6 x 3): each column of g; then U = s G^T (6 x 6): each row of s.
    float s[18];
    [[unroll]] for (int q = 0; q < 3; ++q) {
      float col[6];
      g6(g[q], g[3 + q], g[6 + q], col);
      [[unroll]] for (int r = 0; r < 6; ++r) s[3 * r + q] = col[r];
    }
    [[unroll]] for (int r = 0; r < 6; ++r) {
      float row[6];
      g6(s[3 * r], s[3 * r + 1], s[3 * r + 2], row);
      [[unroll]] for (int q = 0; q < 6; ++q) u[6 * r + q][j] = row[q];
    }
  }
  const uint plane = pc.O * pc.C4, at = o * pc.C4 + c4;
  [[unroll]] for (uint q = 0u; q < 6u; ++q) {
    u0[q * plane + at] = STORE_VEC4(u[q]);
    u1[q * plane + at] = STORE_VEC4(u[6u + q]);
    u2[q * plane + at] = STORE_VEC4(u[12u + q]);
    u3[q * plane + at] = STORE_VEC4(u[18u + q]);
    u4[q * plane + at] = STORE_VEC4(u[24u + q]);
    u5[q * plane + at] = STORE_VEC4(u[30u + q]);
  }
}
