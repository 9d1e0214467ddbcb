// Precision variants, chosen by the build (cmake/Shaders.cmake defines exactly one):
//   VKD_VARIANT_F32   storage float,     arithmetic float
//   VKD_VARIANT_F16   storage float16_t, arithmetic float
//   VKD_VARIANT_F16A  storage float16_t, arithmetic float16_t
// Shaders declare buffers of STORE_T and compute in ARITH_T (or float where an op needs f32
// accumulation whatever the variant, e.g. reductions over thousands of terms).
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : enable

#if defined(VKD_VARIANT_F32)
#define STORE_T float
#define STORE_VEC4 vec4
#define ARITH_T float
#define ARITH_VEC4 vec4
#elif defined(VKD_VARIANT_F16)
#define STORE_T float16_t
#define STORE_VEC4 f16vec4
#define ARITH_T float
#define ARITH_VEC4 vec4
#elif defined(VKD_VARIANT_F16A)
#define STORE_T float16_t
#define STORE_VEC4 f16vec4
#define ARITH_T float16_t
#define ARITH_VEC4 f16vec4
#else
#error "no precision variant defined"
#endif

// Formats of storage texel buffer views of STORE_T (4 values and 1 value per texel), for imageLoad reads
// (ops::texel4_format on the host).
#if defined(VKD_VARIANT_F32)
#define TEXEL4_FORMAT rgba32f
#define TEXEL1_FORMAT r32f
#else
#define TEXEL4_FORMAT rgba16f
#define TEXEL1_FORMAT r16f
#endif

// Workgroup size comes from specialization constants 0..2 so one SPIR-V serves every size.
#define VKD_LOCAL_SIZE layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in

// Conversions between storage and arithmetic/float types.
#define LOADF(x) float(x)
#define TO_STORE(x) STORE_T(x)
#define TO_ARITH(x) ARITH_T(x)
