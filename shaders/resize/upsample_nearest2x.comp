// Nearest 2x upsampling of NCHW planes (the UNet's Upsample): each invocation reads one input
// value and writes it to its 2x2 output block: out[p, 2y + a, 2x + b] = x[p, y, x].
// Bindings: 0 x [planes, H, W] (STORE_T), 1 out [planes, 2H, 2W] (STORE_T).
// Push constants: H, W, plane_offset (first plane of this dispatch, counted from the windows' first plane),
//   x_base, y_base (elements from each binding's start to the window's first plane: the host splits
//   tensors larger than one binding into windows of whole planes).
// Spec constants: 0..2 workgroup size (wx, wy, 1).
// Dispatch: (ceil(W / wx), ceil(H / wy), planes of this dispatch).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  uint H;
  uint W;
  uint plane_offset;
  uint x_base;
  uint y_base;
} pc;

void main() {
  uint xx = gl_GlobalInvocationID.x, y = gl_GlobalInvocationID.y;
  if (xx >= pc.W || y >= pc.H) return;
  uint row = (pc.plane_offset + gl_WorkGroupID.z) * pc.H + y;
  STORE_T v = x[pc.x_base + row * pc.W + xx];
  uint o0 = pc.y_base + (2u * row) * (2u * pc.W) + 2u * xx;
  o[o0] = v;
  o[o0 + 1u] = v;
  o[o0 + 2u * pc.W] = v;
  o[o0 + 2u * pc.W + 1u] = v;
}
