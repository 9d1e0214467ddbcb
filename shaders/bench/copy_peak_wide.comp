// copy_peak.comp the way the CPU device's lane shaders move data: 8 values per invocation and step, read as two
// texels (imageLoad) and stored as one WIDE_T (wide_store.glsl); on llvmpipe about 5x the vec4 SSBO copy.
// Bindings: 0 in imageBuffer (rgba32f), 1 out (WIDE_T).
// Push constants: count of 8-value groups, total invocations (grid stride).
// Spec constants: 0..2 workgroup size.
// Dispatch: (groups, 1, 1); bytes moved = 2 * count * 32.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;

layout(binding = 0, rgba32f) uniform readonly imageBuffer I;
layout(std430, binding = 1) writeonly buffer O { WIDE_T dst[]; };
layout(push_constant) uniform PC {
  uint count;
  uint stride;
} pc;

void main() {
  for (uint i = gl_GlobalInvocationID.x; i < pc.count; i += pc.stride)
    dst[i] = to_wide(imageLoad(I, int(2u * i)), imageLoad(I, int(2u * i + 1u)));
}
