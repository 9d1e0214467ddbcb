// Eight values in one storage-buffer access: WIDE_T holds 8 STORE_T (f32: a u64vec4 of bit-packed pairs, 32
// bytes; f16: a uvec4, 16 bytes), to_wide/wide_lo/wide_hi convert it from and to two vec4.
// Why (measured on Mesa 22.3 llvmpipe, Zen 1): every SSBO access instruction runs a loop over the 8 lanes, so
// the bytes one instruction moves set the speed, not the bytes moved: a copy ran at 1.0 GB/s with vec4 loads
// and stores, 2.4 GB/s with u64vec4 ones, 2.8 GB/s reading through imageLoad and storing vec4s and 5.0 GB/s
// reading two texels and storing one u64vec4. The f32 variant needs shaderInt64 (DeviceCaps::int64).
// Include after types.glsl, before any declaration.
#if defined(VKD_VARIANT_F32)
#extension GL_ARB_gpu_shader_int64 : require
#define WIDE_T u64vec4
WIDE_T to_wide(vec4 lo, vec4 hi) {
  return u64vec4(packUint2x32(floatBitsToUint(lo.xy)), packUint2x32(floatBitsToUint(lo.zw)),
                 packUint2x32(floatBitsToUint(hi.xy)), packUint2x32(floatBitsToUint(hi.zw)));
}
vec4 wide_lo(WIDE_T w) {
  return vec4(uintBitsToFloat(unpackUint2x32(w.x)), uintBitsToFloat(unpackUint2x32(w.y)));
}
vec4 wide_hi(WIDE_T w) {
  return vec4(uintBitsToFloat(unpackUint2x32(w.z)), uintBitsToFloat(unpackUint2x32(w.w)));
}
#else
#define WIDE_T uvec4
WIDE_T to_wide(vec4 lo, vec4 hi) {
  return uvec4(packFloat2x16(f16vec2(lo.xy)), packFloat2x16(f16vec2(lo.zw)), packFloat2x16(f16vec2(hi.xy)),
               packFloat2x16(f16vec2(hi.zw)));
}
vec4 wide_lo(WIDE_T w) { return vec4(vec2(unpackFloat2x16(w.x)), vec2(unpackFloat2x16(w.y))); }
vec4 wide_hi(WIDE_T w) { return vec4(vec2(unpackFloat2x16(w.z)), vec2(unpackFloat2x16(w.w))); }
#endif
