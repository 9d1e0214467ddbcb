// Winograd F(2x2, 3x3) output transform (see core/ops/conv2d_winograd.cpp): the 16 GEMM results m of one
// (output channel, tile) become the tile's 2x2 outputs Y = A^T m A, A^T = [1 1 1 0; 0 1 -1 -1], plus the bias
// and the residual; outputs past the image's edge (odd sizes) are not stored. One invocation per (output channel,
// tile of the chunk), tiles fastest; m is read through texel views (vectorised gathers on lavapipe). A dispatch
// covers output channels o0 .. o0 + oc_n - 1; out and the residual are bound whole or as a window of whole
// channel planes of one image (image n_first's plane o0 at out_base / res_base).
// With PAIR 1 (Wo % 4 == 0, an even tile count per chunk) an invocation takes two horizontally adjacent tiles and
// stores each of its two rows of 4 outputs 4-wide: llvmpipe stores lane by lane, so 2 stores instead of 8; with
// PAIR 2 (Wo % 8 == 0, tile counts multiples of 4, out and the residual bound whole at multiples of 8 values) four
// tiles and rows of 8 outputs (wide_store.glsl).
// Bindings: 0..3 M_0..M_3 imageBuffer [4 (column q)][O][Tc] (r32f / r16f), 4 bias [O] (dummy when unused),
// 5 residual [N][O][Ho][Wo] (dummy when unused), 6 out [N][O][Ho][Wo].
// Push constants: O, Ho, Wo, tiles_x, tiles_per_image, t0, Tc, o0, oc_n, total (= oc_n * Tc, or half with PAIR),
// row_stride, out_base, res_base, n_first, out_img_stride (values per image of out).
// Spec constants: 0..2 workgroup size; 3 PAIR (0, 1 or 2: 1, 2 or 4 tiles per invocation); 4 FLAGS (1 bias,
// 2 residual; constants, not push constants: llvmpipe runs both sides of a uniform branch).
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
layout(std430, binding = 4) readonly buffer Bias { STORE_T bias[]; };
layout(std430, binding = 5) readonly buffer Res { STORE_T res[]; };
layout(std430, binding = 5) readonly buffer Res4 { STORE_VEC4 res4[]; };
layout(std430, binding = 5) readonly buffer Res8 { WIDE_T res8[]; };
layout(std430, binding = 6) writeonly buffer Out { STORE_T o[]; };
layout(std430, binding = 6) writeonly buffer Out4 { STORE_VEC4 o4[]; };
layout(std430, binding = 6) writeonly buffer Out8 { WIDE_T o8[]; };
layout(push_constant) uniform PC {
  uint O, Ho, Wo, tiles_x, tiles_per_image, t0, Tc, o0, oc_n, total, row_stride, out_base, res_base, n_first,
      out_img_stride;
} pc;

// The 2x2 outputs (row-major) of tile tl of output channel oc.
vec4 tile_outputs(uint oc, uint tl) {
  const uint plane = pc.O * pc.Tc, at = oc * pc.Tc + tl;
  float m[16];
  [[unroll]] for (uint q = 0u; q < 4u; ++q) {
    m[q] = imageLoad(M0, int(q * plane + at)).x;
    m[4u + q] = imageLoad(M1, int(q * plane + at)).x;
    m[8u + q] = imageLoad(M2, int(q * plane + at)).x;
    m[12u + q] = imageLoad(M3, int(q * plane + at)).x;
  }
  // Rows: A^T m (2 x 4), then columns: (A^T m) A (2 x 2).
  float a[8];
  [[unroll]] for (int q = 0; q < 4; ++q) {
    a[q] = m[q] + m[4 + q] + m[8 + q];
    a[4 + q] = m[4 + q] - m[8 + q] - m[12 + q];
  }
  return vec4(a[0] + a[1] + a[2], a[1] - a[2] - a[3], a[4] + a[5] + a[6], a[5] - a[6] - a[7]);
}

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const uint TILES = 1u << PAIR;
  const uint per_oc = pc.Tc / TILES;
  const uint ocl = e / per_oc, oc = pc.o0 + ocl, tl = (e - ocl * per_oc) * TILES, t = pc.t0 + tl;
  const uint n = t / pc.tiles_per_image, rem = t - n * pc.tiles_per_image;
  const uint ty = rem / pc.tiles_x, tx = rem - ty * pc.tiles_x;
  const float b = (FLAGS & 1u) != 0u ? float(bias[oc]) : 0.0;
  // Relative to the binding: out's and the residual's indices differ by their windows' bases only.
  const uint rel = (n - pc.n_first) * pc.out_img_stride + ocl * pc.Ho * pc.Wo + 2u * ty * pc.Wo + 2u * tx;
  const uint base = pc.out_base + rel, rbase = pc.res_base + rel;
  const vec4 y = tile_outputs(oc, tl) + b;
  if (PAIR == 2u) {
    // Tiles tl .. tl + 3 share a row of tiles (tiles_x % 4 == 0); rows of 8 outputs start at multiples of 8.
    const vec4 y1 = tile_outputs(oc, tl + 1u) + b, y2 = tile_outputs(oc, tl + 2u) + b;
    const vec4 y3 = tile_outputs(oc, tl + 3u) + b;
    [[unroll]] for (uint r = 0u; r < 2u; ++r) {
      if (2u * ty + r < pc.Ho) {
        vec4 lo = r == 0u ? vec4(y.xy, y1.xy) : vec4(y.zw, y1.zw);
        vec4 hi = r == 0u ? vec4(y2.xy, y3.xy) : vec4(y2.zw, y3.zw);
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
    // Tiles tl and tl + 1 share a row of tiles (tiles_x is even); 4 | Wo and bases that are multiples of 4 keep
    // both rows' starts 4-aligned.
    const vec4 y2 = tile_outputs(oc, tl + 1u) + b;
    [[unroll]] for (uint r = 0u; r < 2u; ++r) {
      if (2u * ty + r < pc.Ho) {
        vec4 v = r == 0u ? vec4(y.xy, y2.xy) : vec4(y.zw, y2.zw);
        if ((FLAGS & 2u) != 0u) v += vec4(res4[(rbase + r * pc.Wo) / 4u]);
        o4[(base + r * pc.Wo) / 4u] = STORE_VEC4(v);
      }
    }
    return;
  }
  [[unroll]] for (uint i = 0u; i < 4u; ++i) {
    if (2u * ty + i / 2u < pc.Ho && 2u * tx + i % 2u < pc.Wo) {
      const uint off = (i / 2u) * pc.Wo + i % 2u;
      float v = y[i];
      if ((FLAGS & 2u) != 0u) v += float(res[rbase + off]);
      o[base + off] = STORE_T(v);
    }
  }
}
