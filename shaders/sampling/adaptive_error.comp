// dpm_adaptive's step error: sum over i of ((a[i] - b[i]) / max(atol, rtol * max(|a[i]|, |c[i]|)))^2,
// reduced by one workgroup of 256 invocations into out[0] (f32 whatever the storage).
// Bindings: 0 a (x_low), 1 b (x_high), 2 c (x_prev) (STORE_T); 3 out (float[1]).
// Push constants: atol, rtol, element count.
// Spec constants: 0..2 workgroup size (must be 256, 1, 1).
// Dispatch: (1, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer A { STORE_T a[]; };
layout(std430, binding = 1) readonly buffer B { STORE_T b[]; };
layout(std430, binding = 2) readonly buffer C { STORE_T c[]; };
layout(std430, binding = 3) writeonly buffer O { float o[]; };

layout(push_constant) uniform PC {
  float atol;
  float rtol;
  uint total;
} pc;

shared float partial[256];

void main() {
  uint t = gl_LocalInvocationID.x;
  float acc = 0.0;
  for (uint i = t; i < pc.total; i += 256u) {
    float va = float(a[i]);
    float vb = float(b[i]);
    float vc = float(c[i]);
    float delta = max(pc.atol, pc.rtol * max(abs(va), abs(vc)));
    float r = (va - vb) / delta;
    acc += r * r;
  }
  partial[t] = acc;
  barrier();
  for (uint s = 128u; s > 0u; s >>= 1) {
    if (t < s) partial[t] += partial[t + s];
    barrier();
  }
  if (t == 0u) o[0] = partial[0];
}
