// Winograd F(2x2, 3x3) weight transform (see core/ops/conv2d_winograd.cpp): U = G g G^T for every (output
// channel o, input channel c), with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. One invocation per (o, 4
// consecutive input channels), reading their 36 weights as 9 texels (vectorised gathers on lavapipe) and
// writing 4-wide. U is kept as four tensors U_r (r = the row of the 4x4 tile), each [4 (column q)][O][C], so that each
// fits one binding where all of U would not (2560 -> 1280 channels: 210 MB in f32).
// Bindings: 0 g imageBuffer [O][C][3][3] (rgba32f / rgba16f: 4 values per texel), 1..4 U_0..U_3 [4][O][C/4] (STORE_VEC4).
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
layout(push_constant) uniform PC {
  uint O, C4, total, row_stride, o0, g_base;
} pc;

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const uint ol = e / pc.C4, o = pc.o0 + ol, c4 = e - ol * pc.C4;
  // The 4 channels' 36 weights are consecutive: 9 texels from a 16-byte aligned start.
  vec4 gt[9];
  const int base = int(pc.g_base + (ol * pc.C4 + c4) * 9u);
  [[unroll]] for (int i = 0; i < 9; ++i) gt[i] = imageLoad(G, base + i);
  vec4 u[16];
  [[unroll]] for (uint j = 0u; j < 4u; ++j) {
    float g[9];
    [[unroll]] for (uint i = 0u; i < 9u; ++i) g[i] = gt[(j * 9u + i) / 4u][(j * 9u + i) % 4u];
    // s = G g (4 x 3), then U = s G^T (4 x 4).
    float s[12];
    [[unroll]] for (int q = 0; q < 3; ++q) {
      s[q] = g[q];
      s[3 + q] = 0.5 * (g[q] + g[3 + q] + g[6 + q]);
      s[6 + q] = 0.5 * (g[q] - g[3 + q] + g[6 + q]);
      s[9 + q] = g[6 + q];
    }
    [[unroll]] for (int r = 0; r < 4; ++r) {
      u[4 * r + 0][j] = s[3 * r];
      u[4 * r + 1][j] = 0.5 * (s[3 * r] + s[3 * r + 1] + s[3 * r + 2]);
      u[4 * r + 2][j] = 0.5 * (s[3 * r] - s[3 * r + 1] + s[3 * r + 2]);
      u[4 * r + 3][j] = s[3 * r + 2];
    }
  }
  const uint plane = pc.O * pc.C4, at = o * pc.C4 + c4;
  [[unroll]] for (uint q = 0u; q < 4u; ++q) {
    u0[q * plane + at] = STORE_VEC4(u[q]);
    u1[q * plane + at] = STORE_VEC4(u[4u + q]);
    u2[q * plane + at] = STORE_VEC4(u[8u + q]);
    u3[q * plane + at] = STORE_VEC4(u[12u + q]);
  }
}
