// Winograd F(2x2, 3x3) input transform (see core/ops/conv2d_winograd.cpp): for every 2x2 output tile, the 4x4
// input patch d under it (zero outside the image: padding) becomes V = B^T d B, with
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. One invocation per (tile of the chunk, G = 8 consecutive input
// channels, or 4), channels fastest (so the 8 lanes' stores are contiguous); tiles are numbered over (image, tile
// row, tile column) and a chunk covers tiles t0 .. t0 + Tc - 1. A dispatch covers channel groups cg0 .. cg0 + cgn - 1.
// x is read through a texel view (vectorised gathers on lavapipe), whole or a window of whole channel planes of
// one image (image n_first's plane G * cg0 at texel x_base); V is written G channels per store (8: wide_store.glsl,
// llvmpipe's stores cost per instruction; 4 where a window of x holds fewer than 8 planes) as four tensors V_r
// (r = the row of the 4x4 tile), each [4 (column q)][Tc][C]: the GEMM's w operand for batch q.
// Bindings: 0 x imageBuffer [N][C][H][W] (r32f / r16f), 1..4 V_0..V_3 [4][Tc][C/G] (WIDE_T, or STORE_VEC4).
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
layout(push_constant) uniform PC {
  uint CG, H, W, pad, tiles_x, tiles_per_image, t0, Tc, cg0, cgn, total, row_stride, x_base, n_first,
      x_img_stride;
} pc;
layout(constant_id = 3) const uint WIDE = 1;

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const uint G = WIDE == 1u ? 8u : 4u;
  const uint tl = e / pc.cgn, cl = e - tl * pc.cgn, cg = pc.cg0 + cl, t = pc.t0 + tl;
  const uint n = t / pc.tiles_per_image, rem = t - n * pc.tiles_per_image;
  const uint ty = rem / pc.tiles_x, tx = rem - ty * pc.tiles_x;
  const int iy0 = int(2u * ty) - int(pc.pad), ix0 = int(2u * tx) - int(pc.pad);
  // Rows and columns of the patch inside the image; padding taps read a valid texel and are zeroed (no branch
  // around the loads: lanes run in lockstep).
  bool ry[4], rx[4];
  uint oy[4], ox[4];
  [[unroll]] for (int i = 0; i < 4; ++i) {
    ry[i] = iy0 + i >= 0 && iy0 + i < int(pc.H);
    rx[i] = ix0 + i >= 0 && ix0 + i < int(pc.W);
    oy[i] = ry[i] ? uint(iy0 + i) * pc.W : 0u;
    ox[i] = rx[i] ? uint(ix0 + i) : 0u;
  }
  vec4 v[16], w[16];  // channels 8 * c8 + 0..3 and + 4..7
  [[unroll]] for (uint j = 0u; j < 8u; ++j) {
    if (j >= G) break;
    const uint plane = pc.x_base + (n - pc.n_first) * pc.x_img_stride + (G * cl + j) * pc.H * pc.W;
    float d[16];
    [[unroll]] for (int r = 0; r < 4; ++r)
      [[unroll]] for (int q = 0; q < 4; ++q) {
        const float val = imageLoad(X, int(plane + oy[r] + ox[q])).x;
        d[4 * r + q] = ry[r] && rx[q] ? val : 0.0;
      }
    // Rows: B^T d, then columns: (B^T d) B.
    float b[16];
    [[unroll]] for (int q = 0; q < 4; ++q) {
      b[q] = d[q] - d[8 + q];
      b[4 + q] = d[4 + q] + d[8 + q];
      b[8 + q] = d[8 + q] - d[4 + q];
      b[12 + q] = d[4 + q] - d[12 + q];
    }
    [[unroll]] for (int r = 0; r < 4; ++r) {
      const vec4 row = vec4(b[4 * r] - b[4 * r + 2], b[4 * r + 1] + b[4 * r + 2], b[4 * r + 2] - b[4 * r + 1],
                            b[4 * r + 1] - b[4 * r + 3]);
      [[unroll]] for (int q = 0; q < 4; ++q) {
        if (j < 4u) v[4 * r + q][j] = row[q];
        else w[4 * r + q][j - 4u] = row[q];
      }
    }
  }
  const uint plane = pc.Tc * pc.CG, at = tl * pc.CG + cg;
  if (WIDE == 0u) {
    [[unroll]] for (uint q = 0u; q < 4u; ++q) {
      n0[q * plane + at] = STORE_VEC4(v[q]);
      n1[q * plane + at] = STORE_VEC4(v[4u + q]);
      n2[q * plane + at] = STORE_VEC4(v[8u + q]);
      n3[q * plane + at] = STORE_VEC4(v[12u + q]);
    }
    return;
  }
  [[unroll]] for (uint q = 0u; q < 4u; ++q) {
    v0[q * plane + at] = to_wide(v[q], w[q]);
    v1[q * plane + at] = to_wide(v[4u + q], w[4u + q]);
    v2[q * plane + at] = to_wide(v[8u + q], w[8u + q]);
    v3[q * plane + at] = to_wide(v[12u + q], w[12u + q]);
  }
}
