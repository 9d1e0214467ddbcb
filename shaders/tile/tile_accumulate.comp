// tiled_scale's blend of one tile into the running sums (comfy.utils.tiled_scale_multidim, 2-D):
//   acc[c, y0 + y, x0 + x] += tile[c, y, x] * mask[y, x];   weight[y0 + y, x0 + x] += mask[y, x]
// mask starts at 1 and, per axis whose feather is smaller than the tile, positions t < feather from either
// end are multiplied by (t + 1) / feather: rows first, then columns, each factor an f32 product as torch
// computes mask.narrow(...).mul_(a). Every value is f32 in every variant (the sums are ComfyUI's f32 tensors).
// Bindings: 0 tile (float) [C, h, w]; 1 acc (float) [C, H, W], 2 weight (float) [H, W] (read and written).
// Push constants: C, h, w, H, W, y0, x0, feather_y, feather_x.
// Spec constants: 0..2 workgroup size (x over w, y over h).
// Dispatch: (ceil(w / wg.x), ceil(h / wg.y), C).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer T { float tile[]; };
layout(std430, binding = 1) buffer A { float acc[]; };
layout(std430, binding = 2) buffer W { float weight[]; };
layout(push_constant) uniform PC {
  uint c, h, w, H, W, y0, x0, feather_y, feather_x;
} pc;

// The factor one axis contributes at position i of n: the product over the (up to two) edges it is near,
// in the order tiled_scale's loop over t applies them.
float axis_mask(float m_in, uint i, uint n, uint feather) {
  precise float m = m_in;
  if (feather >= n) return m;
  uint near = min(i, n - 1u - i), far = max(i, n - 1u - i);
  if (near < feather) m = m * (float(near + 1u) / float(feather));
  if (far < feather) m = m * (float(far + 1u) / float(feather));
  return m;
}

void main() {
  uint x = gl_GlobalInvocationID.x, y = gl_GlobalInvocationID.y, ch = gl_GlobalInvocationID.z;
  if (x >= pc.w || y >= pc.h) return;
  precise float m = axis_mask(1.0, y, pc.h, pc.feather_y);
  m = axis_mask(m, x, pc.w, pc.feather_x);
  uint o = (pc.y0 + y) * pc.W + pc.x0 + x;
  precise float v = tile[(ch * pc.h + y) * pc.w + x] * m;
  acc[ch * pc.H * pc.W + o] = acc[ch * pc.H * pc.W + o] + v;
  if (ch == 0u) weight[o] = weight[o] + m;
}
