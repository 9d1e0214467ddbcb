// Multiplies the masked frequency bins of every plane by `scale`, in place. The mask is given in
// fftshift order (rows [row_lo, row_lo + rows), cols [col_lo, col_lo + cols)); shifted index i of an
// axis of length n holds unshifted bin (i - n/2) mod n, so no shift of the data is needed.
// Bindings: 0 c (vec2, planes of H x W, read and written).
// Push constants: planes, H, W, row_lo, rows, col_lo, cols, scale.
// Spec constants: 0..2 workgroup size.
// Dispatch: ceil(planes * rows * cols / workgroup) groups in x.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) buffer C { vec2 c[]; };
layout(push_constant) uniform PC {
  uint planes, H, W;
  uint row_lo, rows, col_lo, cols;
  float scale;
} pc;

void main() {
  uint i = gl_GlobalInvocationID.x;
  uint per_plane = pc.rows * pc.cols;
  if (i >= pc.planes * per_plane) return;
  uint p = i / per_plane, r = (i % per_plane) / pc.cols, q = i % pc.cols;
  uint kr = (pc.row_lo + r + pc.H - pc.H / 2) % pc.H;
  uint kc = (pc.col_lo + q + pc.W - pc.W / 2) % pc.W;
  uint at = (p * pc.H + kr) * pc.W + kc;
  c[at] = c[at] * pc.scale;
}
