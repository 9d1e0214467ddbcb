// Measures streaming bandwidth from a shader: out[i] = in[i] as vec4s, a grid-stride loop.
// Bindings: 0 in (vec4), 1 out (vec4).
// Push constants: count of vec4s, total invocations (grid stride).
// Spec constants: 0..2 workgroup size.
// Dispatch: (groups, 1, 1); bytes moved = 2 * count * 16.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer I { vec4 src[]; };
layout(std430, binding = 1) writeonly buffer O { vec4 dst[]; };
layout(push_constant) uniform PC {
  uint count;
  uint stride;
} pc;

void main() {
  for (uint i = gl_GlobalInvocationID.x; i < pc.count; i += pc.stride) dst[i] = src[i];
}
