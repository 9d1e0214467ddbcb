// One pass of Pillow's 8-bit resampling (ImagingResampleHorizontal_8bpc / Vertical_8bpc) over NCHW
// planes, one output pixel per invocation:
//   ss = 1 << 21 + sum_k in[tap first[i] + k] * coeffs[i * ksize + k]   (int32, coefficients with
//   22 fraction bits), out = clamp(ss >> 22, 0, 255)   (Pillow's clip8)
// where i is the output column (horizontal, taps along the input row row_offset + out row) or the
// output row (vertical, taps down the input column).
// The first pass quantizes its input as ComfyUI does, uint8(clip(255 * x, 0, 255)) with 255 * x in
// f32 (NaN -> 0); the last pass writes value / 255 (correctly rounded f32), the others the 8-bit value
// itself (exact in f16 too).
// Bindings: 0 x [planes, in_h, in_w] (STORE_T), 1 table (int: first[n], count[n], coeffs[n * ksize],
//   n = out_w horizontal / out_h vertical), 2 out [planes, out_h, out_w] (STORE_T).
// Push constants: in_h, in_w, out_h, out_w, row_offset, ksize, plane_offset (first plane of this dispatch).
// Spec constants: 0..2 workgroup size (wx, wy, 1); 3 VERTICAL; 4 QUANTIZE_INPUT; 5 UNIT_OUTPUT.
// Dispatch: (ceil(out_w / wx), ceil(out_h / wy), planes of this dispatch).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint VERTICAL = 0;
layout(constant_id = 4) const uint QUANTIZE_INPUT = 0;
layout(constant_id = 5) const uint UNIT_OUTPUT = 0;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) readonly buffer T { int table[]; };
layout(std430, binding = 2) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  uint in_h;
  uint in_w;
  uint out_h;
  uint out_w;
  uint row_offset;
  uint ksize;
  uint plane_offset;
} pc;

const int kPrecisionBits = 22;

// The 8-bit value of input element i.
int pixel(uint i) {
  float v = float(x[i]);
  if (QUANTIZE_INPUT == 0u) return int(v);
  precise float scaled = 255.0 * v;
  if (isnan(scaled)) return 0;
  return int(clamp(scaled, 0.0, 255.0));  // truncation, as numpy's astype(uint8)
}

// v / 255 rounded to nearest f32: the quotient's candidates one ulp apart are compared by their
// exact residual c * 255 - v (fma), since GLSL division need not be correctly rounded.
float unit_value(int v) {
  float fv = float(v);
  float q = fv / 255.0;
  float best = q;
  precise float best_r = abs(fma(q, -255.0, fv));
  float cands[2] = float[2](uintBitsToFloat(floatBitsToUint(q) - 1u), uintBitsToFloat(floatBitsToUint(q) + 1u));
  if (v > 0) {
    for (int c = 0; c < 2; ++c) {
      precise float r = abs(fma(cands[c], -255.0, fv));
      if (r < best_r) {
        best = cands[c];
        best_r = r;
      }
    }
  }
  return v == 0 ? 0.0 : best;
}

void main() {
  uint ox = gl_GlobalInvocationID.x, oy = gl_GlobalInvocationID.y;
  if (ox >= pc.out_w || oy >= pc.out_h) return;
  uint plane = pc.plane_offset + gl_WorkGroupID.z;
  uint in_base = plane * pc.in_h * pc.in_w;
  uint n = VERTICAL == 1u ? pc.out_h : pc.out_w;
  uint i = VERTICAL == 1u ? oy : ox;
  uint first = uint(table[i]);
  uint count = uint(table[n + i]);
  uint kbase = 2u * n + i * pc.ksize;
  int ss = 1 << (kPrecisionBits - 1);
  if (VERTICAL == 1u) {
    for (uint k = 0u; k < count; ++k) ss += pixel(in_base + (first + k) * pc.in_w + ox) * table[kbase + k];
  } else {
    uint row = in_base + (oy + pc.row_offset) * pc.in_w + first;
    for (uint k = 0u; k < count; ++k) ss += pixel(row + k) * table[kbase + k];
  }
  int v = clamp(ss >> kPrecisionBits, 0, 255);
  o[(plane * pc.out_h + oy) * pc.out_w + ox] = STORE_T(UNIT_OUTPUT == 1u ? unit_value(v) : float(v));
}
