// geglu.comp for a CPU device: x [rows, 2F] -> y [rows, F], y = x[:, :F] * gelu(x[:, F:]) (exact erf GELU), 8
// outputs per invocation: x read as texels of 4 values (imageLoad: vectorised on llvmpipe, where an SSBO access
// runs a loop over the lanes) and y stored 8 at a time (wide_store.glsl).
// Bindings: 0 x imageBuffer [rows][2F/4] (rgba32f, or rgba16f), 1 y [rows][F/8] (WIDE_T, out).
// Push constants: F8 (= F / 8), total (= rows * F8), row_stride.
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d(total, wg); e = gid.y * row_stride + gid.x.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;
#include "norm_act.glsl"

layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer X;
layout(std430, binding = 1) writeonly buffer Y { WIDE_T y[]; };
layout(push_constant) uniform PC {
  uint F8, total, row_stride;
} pc;

vec4 gelu4(vec4 g) { return vec4(act_gelu(g.x), act_gelu(g.y), act_gelu(g.z), act_gelu(g.w)); }

void main() {
  const uint e = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (e >= pc.total) return;
  const uint r = e / pc.F8, j = e - r * pc.F8;
  const int a = int(r * 4u * pc.F8 + 2u * j), g = a + int(2u * pc.F8);  // texels: a row holds 2F / 4 = 4 * F8
  y[e] = to_wide(imageLoad(X, a) * gelu4(imageLoad(X, g)), imageLoad(X, a + 1) * gelu4(imageLoad(X, g + 1)));
}
