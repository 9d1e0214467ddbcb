// im2col.comp for blocks of 4 channels (C % 4 == 0): one invocation per (4 channels, output pixel) reads x through a
// storage texel buffer (r32f / r16f) and writes that pixel's 4 * KH*KW consecutive values of col 4 at a time.
// Why (measured on Mesa 22.3 llvmpipe): there every SSBO access is a loop over the 8 lanes while imageLoad is a
// vectorised gather, and a 4-wide store costs about what a scalar one does; im2col was a quarter of the VAE's time.
// Bindings: 0 x imageBuffer [C, H, W] (one value per texel), 1 col [pixels][C*KH*KW] (STORE_VEC4): as im2col.comp.
// Push constants: as im2col.comp, with total = (C / 4) * pixels.
// Spec constants: 0..2 workgroup size; 3 KH, 4 KW, 5 STRIDE.
// Dispatch: grid_1d(total, wg).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;
layout(constant_id = 3) const uint KH = 3;
layout(constant_id = 4) const uint KW = 3;
layout(constant_id = 5) const uint STRIDE = 1;

layout(binding = 0, TEXEL1_FORMAT) uniform readonly imageBuffer X;
layout(std430, binding = 1) writeonly buffer Col { STORE_VEC4 col[]; };
layout(push_constant) uniform PC {
  uint C, H, W, Wo, pad, K, total, row_stride, p0, pixels, c0, x_base;
} pc;

// Value j (0 .. 4*KH*KW - 1) of this invocation's run: channel c + j / (KH*KW), tap (j % (KH*KW)).
float tap(uint in_c0, int iy0, int ix0, uint j) {
  const uint ci = j / (KH * KW), t = j - ci * (KH * KW);
  const uint ky = t / KW, kx = t - ky * KW;
  const int iy = iy0 + int(ky), ix = ix0 + int(kx);
  // No branch around the load (lanes run in lockstep): padding taps read a valid texel and are zeroed.
  const bool inside = iy >= 0 && iy < int(pc.H) && ix >= 0 && ix < int(pc.W);
  const uint idx = inside ? in_c0 + ci * pc.H * pc.W + uint(iy) * pc.W + uint(ix) : in_c0;
  const float v = imageLoad(X, int(idx)).x;
  return inside ? v : 0.0;
}

void main() {
  uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  uint c4 = e / pc.pixels, pl = e - c4 * pc.pixels, p = pc.p0 + pl;
  uint oy = p / pc.Wo, ox = p - oy * pc.Wo;
  int iy0 = int(oy * STRIDE) - int(pc.pad), ix0 = int(ox * STRIDE) - int(pc.pad);
  uint out4 = (pl * pc.K + (pc.c0 + 4u * c4) * (KH * KW)) / 4u;
  uint in_c0 = pc.x_base + 4u * c4 * pc.H * pc.W;
  // KH*KW and the loops are spec constants: the compiler unrolls them and folds the divisions.
  for (uint q = 0u; q < KH * KW; ++q) {
    col[out4 + q] = STORE_VEC4(vec4(tap(in_c0, iy0, ix0, 4u * q), tap(in_c0, iy0, ix0, 4u * q + 1u),
                                    tap(in_c0, iy0, ix0, 4u * q + 2u), tap(in_c0, iy0, ix0, 4u * q + 3u)));
  }
}
