// Measures the device's arithmetic peak: each invocation runs `iterations` x 32 rounds of 12 independent scalar
// FMA chains, 384 FMAs (768 FLOPs) per loop iteration. Measured on lavapipe (Mesa 22.3, AVX2): 12 scalar chains
// fit the 16 ymm registers (16 chains spill and lose 3x), the loop body must be written out (a GLSL [[unroll]] loop
// or vec4 chains ran at a third of this), and the hot code must sit inside a loop: straight-line code outside a
// loop ran ~30x slower. This kernel measured ~1.9x the previous 8-chain/4-round one in the same run.
// Bindings: 0 out (STORE_T), one value per invocation so the work cannot be optimised away.
// Push constants: iterations, seed.
// Spec constants: 0..2 workgroup size.
// Dispatch: (groups, 1, 1); FLOPs = groups * wg * iterations * 768.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) writeonly buffer O { STORE_T o[]; };
layout(push_constant) uniform PC {
  uint iterations;
  float seed;
} pc;

#define R a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c); \
  a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c); \
  a8 = fma(a8, m, c); a9 = fma(a9, m, c); a10 = fma(a10, m, c); a11 = fma(a11, m, c);
#define R4 R R R R
#define R32 R4 R4 R4 R4 R4 R4 R4 R4

void main() {
  ARITH_T s = ARITH_T(pc.seed) * ARITH_T(gl_LocalInvocationID.x + 1u) * ARITH_T(1e-3);
  ARITH_T a0 = s, a1 = s + ARITH_T(0.1), a2 = s + ARITH_T(0.2), a3 = s + ARITH_T(0.3);
  ARITH_T a4 = s + ARITH_T(0.4), a5 = s + ARITH_T(0.5), a6 = s + ARITH_T(0.6), a7 = s + ARITH_T(0.7);
  ARITH_T a8 = s + ARITH_T(0.8), a9 = s + ARITH_T(0.9), a10 = s + ARITH_T(1.0), a11 = s + ARITH_T(1.1);
  const ARITH_T m = ARITH_T(0.999), c = ARITH_T(0.001);
  for (uint i = 0u; i < pc.iterations; ++i) {
    R32
  }
  o[gl_GlobalInvocationID.x] = STORE_T(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
}
