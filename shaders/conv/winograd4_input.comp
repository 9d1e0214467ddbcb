// Winograd F(4x4, 3x3) input transform (see core/ops/conv2d_winograd.cpp): for every 4x4 output tile, the 6x6
// input patch d under it (zero outside the image: padding) becomes V = B^T d B, with
// B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
// One invocation per (tile of the chunk, G = 8 consecutive input channels, or 4), channels fastest; tiles are
// numbered over (image, tile row, tile column) and a chunk covers tiles t0 .. t0 + Tc - 1. A dispatch covers
// channel groups cg0 .. cg0 + cgn - 1. x is read through a texel view, whole or a window of whole channel planes
// of one image (image n_first's plane G * cg0 at texel x_base); V is written G channels per store (8:
// wide_store.glsl; 4 where a window of x holds fewer than 8 planes) as six tensors V_r (r = the row of the 6x6
// tile), each [6 (column q)][Tc][C]: the GEMM's w operand for batch q. The F(2x2, 3x3) version,
// winograd_input.comp, says why it is laid out so.
// Bindings: 0 x imageBuffer [N][C][H][W] (r32f), 1..6 V_0..V_5 [6][Tc][C/G] (WIDE_T, or STORE_VEC4).
// Push constants: CG (= C / G), H, W, pad, tiles_x, tiles_per_image, t0, Tc, cg0, cgn, total (= cgn * Tc),
// row_stride, x_base, n_first, x_img_stride (values per image of x).
// Spec constants: 0..2 workgroup size; 3 WIDE (1: G = 8, 0: G = 4).
// Dispatch: grid_1d(total, wg).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;

layout(binding = 0, TEXEL1_FORMAT) uniform readonly imageBuffer X;
layout(std430, binding = 1) writeonly buffer V0 { WIDE_T v0[]; };
layout(std430, binding = 1) writeonly buffer N0 { STORE_VEC4 n0[]; };
layout(std430, binding = 2) writeonly buffer V1 { WIDE_T v1[]; };
layout(std430, binding = 2) writeonly buffer N1 { STORE_VEC4 n1[]; };
layout(std430, binding = 3) writeonly buffer V2 { WIDE_T v2[]; };
layout(std430, binding = 3) writeonly buffer N2 { STORE_VEC4 n2[]; };
layout(std430, binding = 4) writeonly buffer V3 { WIDE_T v3[]; };
layout(std430, binding = 4) writeonly buffer N3 { STORE_VEC4 n3[]; };
layout(std430, binding = 5) writeonly buffer V4 { WIDE_T v4[]; };
layout(std430, binding = 5) writeonly buffer N4 { STORE_VEC4 n4[]; };
layout(std430, binding = 6) writeonly buffer V5 { WIDE_T v5[]; };
layout(std430, binding = 6) writeonly buffer N5 { STORE_VEC4 n5[]; };
layout(push_constant) uniform PC {
  uint CG, H, W, pad, tiles_x, tiles_per_image, t0, Tc, cg0, cgn, total, row_stride, x_base, n_first,
      x_img_stride;
} pc;
layout(constant_id = 3) const uint WIDE = 1;

// B^T applied to six values (a column or a row of the patch).
void bt6(float d0, float d1, float d2, float d3, float d4, float d5, out float t[6]) {
  t[0] = 4.0 * d0 - 5.0 * d2 + d4;
  t[1] = d3 + d4 - 4.0 * (d1 + d2);
  t[2] = d4 - d3 + 4.0 * (d1 - d2);
  t[3] = d4 - d2 + 2.0 * (d3 - d1);
  t[4] = d4 - d2 + 2.0 * (d1 - d3);
  t[5] = 4.0 * d1 - 5.0 * d3 + d5;
}

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const uint G = WIDE == 1u ? 8u : 4u;
  const uint tl = e / pc.cgn, cl = e - tl * pc.cgn, cg = pc.cg0 + cl, t = pc.t0 + tl;
  const uint n = t / pc.tiles_per_image, rem = t - n * pc.tiles_per_image;
  const uint ty = rem / pc.tiles_x, tx = rem - ty * pc.tiles_x;
  const int iy0 = int(4u * ty) - int(pc.pad), ix0 = int(4u * tx) - int(pc.pad);
  // Rows and columns of the patch inside the image; padding taps read a valid texel and are zeroed (no branch
  // around the loads: lanes run in lockstep).
  bool ry[6], rx[6];
  uint oy[6], ox[6];
  [[unroll]] for (int i = 0; i < 6; ++i) {
    ry[i] = iy0 + i >= 0 && iy0 + i < int(pc.H);
    rx[i] = ix0 + i >= 0 && ix0 + i < int(pc.W);
    oy[i] = ry[i] ? uint(iy0 + i) * pc.W : 0u;
    ox[i] = rx[i] ? uint(ix0 + i) : 0u;
  }
  vec4 v[36], w[36];  // channels G * cl + 0..3 and + 4..7
  [[unroll]] for (uint j = 0u; j < 8u; ++j) {
    if (j >= G) break;
    const uint plane = pc.x_base + (n - pc.n_first) * pc.x_img_stride + (G * cl + j) * pc.H * pc.W;
    float d[36];
    [[unroll]] for (int r = 0; r < 6; ++r)
      [[unroll]] for (int q = 0; q < 6; ++q) {
        const float val = imageLoad(X, int(plane + oy[r] + ox[q])).x;
        d[6 * r + q] = ry[r] && rx[q] ? val : 0.0;
      }
    // Columns: B^T d, then rows: (B^T d) B.
    float b[36];
    [[unroll]] for (int q = 0; q < 6; ++q) {
      float c[6];
      bt6(d[q], d[6 + q], d[12 + q], d[18 + q], d[24 + q], d[30 + q], c);
      [[unroll]] for (int r = 0; r < 6; ++r) b[6 * r + q] = c[r];
    }
    [[unroll]] for (int r = 0; r < 6; ++r) {
      float row[6];
      bt6(b[6 * r], b[6 * r + 1], b[6 * r + 2], b[6 * r + 3], b[6 * r + 4], b[6 * r + 5], row);
      [[unroll]] for (int q = 0; q < 6; ++q) {
        if (j < 4u) v[6 * r + q][j] = row[q];
        else w[6 * r + q][j - 4u] = row[q];
      }
    }
  }
  const uint plane = pc.Tc * pc.CG, at = tl * pc.CG + cg;
  if (WIDE == 0u) {
    [[unroll]] for (uint q = 0u; q < 6u; ++q) {
      n0[q * plane + at] = STORE_VEC4(v[q]);
      n1[q * plane + at] = STORE_VEC4(v[6u + q]);
      n2[q * plane + at] = STORE_VEC4(v[12u + q]);
      n3[q * plane + at] = STORE_VEC4(v[18u + q]);
      n4[q * plane + at] = STORE_VEC4(v[24u + q]);
      n5[q * plane + at] = STORE_VEC4(v[30u + q]);
    }
    return;
  }
  [[unroll]] for (uint q = 0u; q < 6u; ++q) {
    v0[q * plane + at] = to_wide(v[q], w[q]);
    v1[q * plane + at] = to_wide(v[6u + q], w[6u + q]);
    v2[q * plane + at] = to_wide(v[12u + q], w[12u + q]);
    v3[q * plane + at] = to_wide(v[18u + q], w[18u + q]);
    v4[q * plane + at] = to_wide(v[24u + q], w[24u + q]);
    v5[q * plane + at] = to_wide(v[30u + q], w[30u + q]);
  }
}
