// LDM sinusoidal timestep embedding, in f32 whatever the storage type:
//   half = dim / 2, freq[k] = exp(k * (-ln(max_period)) / half)  (rounded like PyTorch's f32 math),
//   out[b, j] = cos(t[b] * freq[j]) for j < half, sin(t[b] * freq[j - half]) for j < 2 * half,
//   0 for the last column when dim is odd.
// sin/cos use our own range reduction (Cody-Waite by pi/2) and polynomials, since Vulkan only
// promises 2^-11 absolute error for the built-ins and timesteps reach ~1000 radians.
// Bindings: 0 t [B] (STORE_T), 1 out [B, dim] (STORE_T).
// Push constants: dim, half, neg_log_period (-ln(max_period) rounded to f32), total = B * dim, row_stride.
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d(total, wg_x).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer T { STORE_T ts[]; };
layout(std430, binding = 1) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  uint dim;
  uint half_dim;
  float neg_log_period;
  uint total;
  uint row_stride;
} pc;

// sin(r), cos(r) for |r| <= pi/4 (Taylor to r^11 / r^12: truncation < 2e-9).
float sin_poly(float r) {
  float r2 = r * r;
  return r + r * r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0 - r2 / 39916800.0))));
}
float cos_poly(float r) {
  float r2 = r * r;
  return 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 - r2 / 3628800.0))));
}

// Returns (sin a, cos a).
vec2 sincos(float a) {
  float k = round(a * 0.63661977236758134);  // 2 / pi
  // pi/2 = P1 + P2 + P3 with P1 = 201/128 exact in 8 bits, so k * P1 is exact for |k| < 2^16.
  const float P1 = 1.5703125;
  const float P2 = 4.8382679233327508e-4;
  const float P3 = 2.5632829192545614e-12;
  precise float r = ((a - k * P1) - k * P2) - k * P3;
  float s = sin_poly(r), c = cos_poly(r);
  int q = int(k) & 3;
  if (q == 0) return vec2(s, c);
  if (q == 1) return vec2(c, -s);
  if (q == 2) return vec2(-s, -c);
  return vec2(-c, s);
}

void main() {
  uint i = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (i >= pc.total) return;
  uint b = i / pc.dim, j = i % pc.dim;
  float v = 0.0;
  if (j < 2u * pc.half_dim) {
    bool is_cos = j < pc.half_dim;
    uint k = is_cos ? j : j - pc.half_dim;
    precise float e = float(k) * pc.neg_log_period;
    e = e / float(pc.half_dim);
    float freq = exp(e);
    precise float arg = float(ts[b]) * freq;
    vec2 sc = sincos(arg);
    v = is_cos ? sc.y : sc.x;
  }
  o[i] = STORE_T(v);
}
