// Zero padding of the last two dims: out[p, y, x] = in[p, y - top, x - left] inside, else 0.
// Bindings: 0 in (STORE_T) [planes, H, W], 1 out (STORE_T) [planes, Ho, Wo].
// Push constants: H, W, Ho, Wo, top, left.
// Spec constants: 0..2 workgroup size (x over Wo, y over Ho).
// Dispatch: (ceil(Wo / wg.x), ceil(Ho / wg.y), planes).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer I { STORE_T src[]; };
layout(std430, binding = 1) writeonly buffer O { STORE_T dst[]; };
layout(push_constant) uniform PC {
  uint h, w, ho, wo;
  int top, left;
} pc;

void main() {
  uint x = gl_GlobalInvocationID.x, y = gl_GlobalInvocationID.y, p = gl_GlobalInvocationID.z;
  if (x >= pc.wo || y >= pc.ho) return;
  int sy = int(y) - pc.top, sx = int(x) - pc.left;
  STORE_T v = STORE_T(0.0);
  if (sy >= 0 && sy < int(pc.h) && sx >= 0 && sx < int(pc.w)) v = src[(p * pc.h + uint(sy)) * pc.w + uint(sx)];
  dst[(p * pc.ho + y) * pc.wo + x] = v;
}
