// Winograd F(4x4, 3x3) output transform (see core/ops/conv2d_winograd.cpp): the 36 GEMM results m of one
// (output channel, tile) become the tile's 4x4 outputs Y = A^T m A, A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0;
// 0 1 1 4 4 0; 0 1 -1 8 -8 1], plus the bias and the residual; outputs past the image's edge are not stored.
// One invocation per (output channel, tile of the chunk), tiles fastest; m is read through texel views. A
// dispatch covers output channels o0 .. o0 + oc_n - 1; out and the residual are bound whole or as a window of
// whole channel planes of one image (image n_first's plane o0 at out_base / res_base).
// PAIR 1 (Wo % 4 == 0, bases multiples of 4): each row of 4 outputs is stored 4-wide (llvmpipe stores lane by
// lane: 4 stores instead of 16); PAIR 2 (Wo % 8 == 0, an even tile count per chunk, out and the residual bound
// whole at multiples of 8 values): two horizontally adjacent tiles per invocation, rows of 8 (wide_store.glsl).
// Bindings: 0..5 M_0..M_5 imageBuffer [6 (column q)][O][Tc] (r32f), 6 bias [O] (dummy when unused),
// 7 residual [N][O][Ho][Wo] (dummy when unused), 8 out [N][O][Ho][Wo].
// Push constants: O, Ho, Wo, tiles_x, tiles_per_image, t0, Tc, o0, oc_n, total (= oc_n * Tc, or half with
// PAIR 2), row_stride, out_base, res_base, n_first, out_img_stride (values per image of out).
// Spec constants: 0..2 workgroup size; 3 PAIR (0, 1 or 2); 4 FLAGS (1 bias, 2 residual).
// Dispatch: grid_1d(total, wg).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;
layout(constant_id = 3) const uint PAIR = 0;
layout(constant_id = 4) const uint FLAGS = 0;

layout(binding = 0, TEXEL1_FORMAT) uniform readonly imageBuffer M0;
layout(binding = 1, TEXEL1_FORMAT) uniform readonly imageBuffer M1;
layout(binding = 2, TEXEL1_FORMAT) uniform readonly imageBuffer M2;
layout(binding = 3, TEXEL1_FORMAT) uniform readonly imageBuffer M3;
layout(binding = 4, TEXEL1_FORMAT) uniform readonly imageBuffer M4;
layout(binding = 5, TEXEL1_FORMAT) uniform readonly imageBuffer M5;
layout(std430, binding = 6) readonly buffer Bias { STORE_T bias[]; };
layout(std430, binding = 7) readonly buffer Res { STORE_T res[]; };
layout(std430, binding = 7) readonly buffer Res4 { STORE_VEC4 res4[]; };
layout(std430, binding = 7) readonly buffer Res8 { WIDE_T res8[]; };
layout(std430, binding = 8) writeonly buffer Out { STORE_T o[]; };
layout(std430, binding = 8) writeonly buffer Out4 { STORE_VEC4 o4[]; };
layout(std430, binding = 8) writeonly buffer Out8 { WIDE_T o8[]; };
layout(push_constant) uniform PC {
  uint O, Ho, Wo, tiles_x, tiles_per_image, t0, Tc, o0, oc_n, total, row_stride, out_base, res_base, n_first,
      out_img_stride;
} pc;

// A^T applied to six values (a column or a row of m).
vec4 at6(float m0, float m1, float m2, float m3, float m4, float m5) {
  const float s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4;
  return vec4(m0 + s12 + s34, d12 + 2.0 * d34, s12 + 4.0 * s34, d12 + 8.0 * d34 + m5);
}

// The 4x4 outputs of tile tl of output channel oc: y[r] is output row r, plus b.
void tile_outputs(uint oc, uint tl, float b, out vec4 y[4]) {
  const uint plane = pc.O * pc.Tc, at = oc * pc.Tc + tl;
  float m[36];
  [[unroll]] for (uint q = 0u; q < 6u; ++q) {
    const int i = int(q * plane + at);
    m[q] = imageLoad(M0, i).x;
    m[6u + q] = imageLoad(M1, i).x;
    m[12u + q] = imageLoad(M2, i).x;
    m[18u + q] = imageLoad(M3, i).x;
    m[24u + q] = imageLoad(M4, i).x;
    m[30u + q] = imageLoad(M5, i).x;
  }
  // Columns: A^T m (4 x 6), then rows: (A^T m) A (4 x 4).
  vec4 c[6];
  [[unroll]] for (int q = 0; q < 6; ++q) c[q] = at6(m[q], m[6 + q], m[12 + q], m[18 + q], m[24 + q], m[30 + q]);
  [[unroll]] for (int r = 0; r < 4; ++r) y[r] = at6(c[0][r], c[1][r], c[2][r], c[3][r], c[4][r], c[5][r]) + b;
}

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const uint TILES = PAIR == 2u ? 2u : 1u;
  const uint per_oc = pc.Tc / TILES;
  const uint ocl = e / per_oc, oc = pc.o0 + ocl, tl = (e - ocl * per_oc) * TILES, t = pc.t0 + tl;
  const uint n = t / pc.tiles_per_image, rem = t - n * pc.tiles_per_image;
  const uint ty = rem / pc.tiles_x, tx = rem - ty * pc.tiles_x;
  const float b = (FLAGS & 1u) != 0u ? float(bias[oc]) : 0.0;
  // Relative to the binding: out's and the residual's indices differ by their windows' bases only.
  const uint rel = (n - pc.n_first) * pc.out_img_stride + ocl * pc.Ho * pc.Wo + 4u * ty * pc.Wo + 4u * tx;
  const uint base = pc.out_base + rel, rbase = pc.res_base + rel;
  vec4 y[4];
  tile_outputs(oc, tl, b, y);
  if (PAIR == 2u) {
    // Tiles tl and tl + 1 share a row of tiles (tiles_x is even); rows of 8 outputs start at multiples of 8.
    vec4 y2[4];
    tile_outputs(oc, tl + 1u, b, y2);
    [[unroll]] for (uint r = 0u; r < 4u; ++r) {
      if (4u * ty + r < pc.Ho) {
        vec4 lo = y[r], hi = y2[r];
        if ((FLAGS & 2u) != 0u) {
          const WIDE_T rr = res8[(rbase + r * pc.Wo) / 8u];
          lo += wide_lo(rr);
          hi += wide_hi(rr);
        }
        o8[(base + r * pc.Wo) / 8u] = to_wide(lo, hi);
      }
    }
    return;
  }
  if (PAIR == 1u) {
    [[unroll]] for (uint r = 0u; r < 4u; ++r) {
      if (4u * ty + r < pc.Ho) {
        vec4 v = y[r];
        if ((FLAGS & 2u) != 0u) v += vec4(res4[(rbase + r * pc.Wo) / 4u]);
        o4[(base + r * pc.Wo) / 4u] = STORE_VEC4(v);
      }
    }
    return;
  }
  [[unroll]] for (uint r = 0u; r < 4u; ++r) {
    [[unroll]] for (uint q = 0u; q < 4u; ++q) {
      if (4u * ty + r < pc.Ho && 4u * tx + q < pc.Wo) {
        const uint off = r * pc.Wo + q;
        float v = y[r][q];
        if ((FLAGS & 2u) != 0u) v += float(res[rbase + off]);
        o[base + off] = STORE_T(v);
      }
    }
  }
}
