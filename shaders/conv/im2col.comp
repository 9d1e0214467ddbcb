// im2col for one image, transposed so k runs fastest: col[p][k] = x[c][oy*STRIDE - pad + ky][ox*STRIDE - pad + kx]
// with p = (oy, ox) over Ho*Wo and k = (c, ky, kx) over C*KH*KW (0 in the padding). Feeds the NT texel GEMM
// (shaders/matmul/gemm_texel.comp) that conv2d uses on devices where it is faster than the implicit GEMM.
// Bindings: 0 x [C, H, W], 1 col [pixels][C*KH*KW]: the output pixels p0 .. p0 + pixels - 1 (a chunk, so that col
// fits one binding however large the image).
// One invocation per (channel, pixel), pixels fastest: it writes that pixel's KH*KW values of the channel (the index
// arithmetic is per invocation, not per value; on lavapipe that is most of the cost).
// Bindings may cover only a block of channels [c0, c0 + C) of x (tensors larger than one binding): x_base is the
// element of channel c0's first value in binding 0; the block writes its columns c0*KH*KW.. of col.
// Push constants: C (channels in this block), H, W, Wo, pad, K (= all channels * KH*KW, col's row length),
//   total (= C*pixels), row_stride (Grid1D), p0, pixels, c0, x_base.
// Spec constants: 0..2 workgroup size; 3 KH, 4 KW, 5 STRIDE.
// Dispatch: grid_1d(total, wg).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;
layout(constant_id = 3) const uint KH = 3;
layout(constant_id = 4) const uint KW = 3;
layout(constant_id = 5) const uint STRIDE = 1;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer Col { STORE_T col[]; };
layout(push_constant) uniform PC {
  uint C, H, W, Wo, pad, K, total, row_stride, p0, pixels, c0, x_base;
} pc;

void main() {
  uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  uint c = e / pc.pixels, pl = e - c * pc.pixels, p = pc.p0 + pl;
  uint oy = p / pc.Wo, ox = p - oy * pc.Wo;
  int iy0 = int(oy * STRIDE) - int(pc.pad), ix0 = int(ox * STRIDE) - int(pc.pad);
  uint out_base = pl * pc.K + (pc.c0 + c) * (KH * KW);
  uint in_base = pc.x_base + c * pc.H * pc.W;
  for (uint ky = 0u; ky < KH; ++ky) {
    int iy = iy0 + int(ky);
    bool row_in = iy >= 0 && iy < int(pc.H);
    for (uint kx = 0u; kx < KW; ++kx) {
      int ix = ix0 + int(kx);
      bool inside = row_in && ix >= 0 && ix < int(pc.W);
      col[out_base + ky * KW + kx] = inside ? x[in_base + uint(iy) * pc.W + uint(ix)] : STORE_T(0.0);
    }
  }
}
