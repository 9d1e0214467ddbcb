// One pass of ComfyUI's bislerp resize (comfy.utils.bislerp) over NCHW f32 tensors, one output pixel per
// invocation: along the width (first pass) or the height (second pass), each output pixel is the slerp of
// the two source pixels' channel vectors b1 = x[.., c1[i], ..], b2 = x[.., c2[i], ..] with ratio r[i]:
//   n1 = |b1|, n2 = |b2|, u1 = b1 / n1, u2 = b2 / n2 (0 where the norm is 0), dot = u1 . u2,
//   dot >  0.99999f: b1                       (near-parallel: the first vector, magnitudes not lerped)
//   dot < -0.99999f: b1 * (1 - r) + b2 * r    (near-opposite: plain lerp)
//   else: (sin((1 - r) w) / sin w * u1 + sin(r w) / sin w * u2) * (n1 * (1 - r) + n2 * r), w = acos(dot)
// All arithmetic in f32, as ComfyUI runs it on samples.float(). acos and sin are evaluated here by polynomials
// accurate to a few f32 ulp: Vulkan lets the built-ins be off by 2^-11 absolute (lavapipe's are, visibly).
// Bindings: 0 x [N, C, in_h, in_w] (float), 1 table (int: c1, c2, floatBits(r) per output index along the
//   pass's axis), 2 out [N, C, out_h, out_w] (float). Along the width in_h == out_h, along the height
//   in_w == out_w.
// Push constants: in_h, in_w, out_h, out_w, channels, batch_offset (first batch of this dispatch).
// Spec constants: 0..2 workgroup size (wx, wy, 1); 3 VERTICAL (0: width pass, 1: height pass).
// Dispatch: (ceil(out_w / wx), ceil(out_h / wy), batches of this dispatch).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint VERTICAL = 0;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { int table[]; };
layout(std430, binding = 2) writeonly buffer O { float o[]; };

layout(push_constant) uniform PC {
  uint in_h;
  uint in_w;
  uint out_h;
  uint out_w;
  uint channels;
  uint batch_offset;
} pc;

// ComfyUI's thresholds 1 - 1e-5 and 1e-5 - 1, compared against an f32 tensor (so rounded to f32).
const float kParallel = 0.99999;
const float kPi = 3.14159265358979;
const float kHalfPi = 1.57079632679490;
// pi as 3.140625 (exact, so x in [pi/2, pi] subtracts from it exactly) + the rest.
const float kPiHi = 3.140625;
const float kPiLo = 9.67653589793e-4;

// asin(x) for |x| <= 0.5 (Cephes' asinf polynomial, relative error ~2.5e-7).
float asin_small(float x) {
  float z = x * x;
  return x + x * z * ((((4.2163199048e-2 * z + 2.4181311049e-2) * z + 4.5470025998e-2) * z + 7.4953002686e-2) * z +
                      1.6666752422e-1);
}

// acos(x) on [-1, 1]; near +-1 through asin(sqrt((1 -+ x) / 2)), where 1 -+ x is exact.
float acos_accurate(float x) {
  if (x > 0.5) return 2.0 * asin_small(sqrt(0.5 * (1.0 - x)));
  if (x < -0.5) return kPi - 2.0 * asin_small(sqrt(0.5 * (1.0 + x)));
  return kHalfPi - asin_small(x);
}

// sin(x) on [0, pi]: the Taylor series to x^15 on [0, pi/2] (truncation < 1e-11), sin(pi - x) above.
float sin_accurate(float x) {
  if (x > kHalfPi) x = (kPiHi - x) + kPiLo;
  float z = x * x;
  float p = -1.0 / 1307674368000.0;
  p = p * z + 1.0 / 6227020800.0;
  p = p * z - 1.0 / 39916800.0;
  p = p * z + 1.0 / 362880.0;
  p = p * z - 1.0 / 5040.0;
  p = p * z + 1.0 / 120.0;
  p = p * z - 1.0 / 6.0;
  return x + x * z * p;
}

void main() {
  uint ox = gl_GlobalInvocationID.x, oy = gl_GlobalInvocationID.y;
  if (ox >= pc.out_w || oy >= pc.out_h) return;
  uint n = pc.batch_offset + gl_WorkGroupID.z;
  uint i = VERTICAL == 1u ? oy : ox;
  uint c1 = uint(table[3u * i]), c2 = uint(table[3u * i + 1u]);
  float r = intBitsToFloat(table[3u * i + 2u]);
  // Element (n, c, .) of the two source pixels: base + c * plane.
  uint plane_in = pc.in_h * pc.in_w, plane_out = pc.out_h * pc.out_w;
  uint base_in = n * pc.channels * plane_in;
  uint p1 = base_in + (VERTICAL == 1u ? c1 * pc.in_w + ox : oy * pc.in_w + c1);
  uint p2 = base_in + (VERTICAL == 1u ? c2 * pc.in_w + ox : oy * pc.in_w + c2);
  uint po = n * pc.channels * plane_out + oy * pc.out_w + ox;

  float s1 = 0.0, s2 = 0.0;
  for (uint c = 0u; c < pc.channels; ++c) {
    float a = x[p1 + c * plane_in], b = x[p2 + c * plane_in];
    s1 += a * a;
    s2 += b * b;
  }
  float n1 = sqrt(s1), n2 = sqrt(s2);
  float dot_ = 0.0;
  for (uint c = 0u; c < pc.channels; ++c) {
    float u1 = n1 == 0.0 ? 0.0 : x[p1 + c * plane_in] / n1;
    float u2 = n2 == 0.0 ? 0.0 : x[p2 + c * plane_in] / n2;
    dot_ += u1 * u2;
  }
  if (dot_ > kParallel) {
    for (uint c = 0u; c < pc.channels; ++c) o[po + c * plane_out] = x[p1 + c * plane_in];
  } else if (dot_ < -kParallel) {
    for (uint c = 0u; c < pc.channels; ++c)
      o[po + c * plane_out] = x[p1 + c * plane_in] * (1.0 - r) + x[p2 + c * plane_in] * r;
  } else {
    // NaN inputs give a NaN dot, which lands here (as in torch, where neither mask is set).
    float omega = acos_accurate(dot_);
    float so = sin_accurate(omega);
    float w1 = sin_accurate((1.0 - r) * omega) / so, w2 = sin_accurate(r * omega) / so;
    float mag = n1 * (1.0 - r) + n2 * r;
    for (uint c = 0u; c < pc.channels; ++c) {
      float u1 = n1 == 0.0 ? 0.0 : x[p1 + c * plane_in] / n1;
      float u2 = n2 == 0.0 ? 0.0 : x[p2 + c * plane_in] / n2;
      o[po + c * plane_out] = (w1 * u1 + w2 * u2) * mag;
    }
  }
}
