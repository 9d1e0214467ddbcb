// Measures the device's arithmetic peak: each invocation runs `iterations` x 4 rounds of 8 independent FMA
// chains (few live values, so nothing spills on lavapipe's SoA registers), 16 FLOPs per round.
// Bindings: 0 out (STORE_T), one value per invocation so the work cannot be optimised away.
// Push constants: iterations, seed.
// Spec constants: 0..2 workgroup size.
// Dispatch: (groups, 1, 1); FLOPs = groups * wg * iterations * 64 (4 unrolled rounds of 8 FMAs).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) writeonly buffer O { STORE_T o[]; };
layout(push_constant) uniform PC {
  uint iterations;
  float seed;
} pc;

void main() {
  ARITH_T s = ARITH_T(pc.seed) * ARITH_T(gl_LocalInvocationID.x + 1u) * ARITH_T(1e-3);
  ARITH_T a0 = s, a1 = s + ARITH_T(0.1), a2 = s + ARITH_T(0.2), a3 = s + ARITH_T(0.3);
  ARITH_T a4 = s + ARITH_T(0.4), a5 = s + ARITH_T(0.5), a6 = s + ARITH_T(0.6), a7 = s + ARITH_T(0.7);
  const ARITH_T m = ARITH_T(0.999), c = ARITH_T(0.001);
  for (uint i = 0u; i < pc.iterations; ++i) {
    [[unroll]] for (int u = 0; u < 4; ++u) {
      a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
      a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
    }
  }
  o[gl_GlobalInvocationID.x] = STORE_T(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
}
