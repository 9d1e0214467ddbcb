// softmax_texel.comp for a CPU device: each invocation takes a whole row alone, and writes 8 values per store.
// Why (measured on Mesa 22.3 llvmpipe): a workgroup's subgroups run one after another, every barrier of a
// per-row reduction switches between them and each workgroup costs about a microsecond (attention's softmax at
// 4096 queries x 4096 keys: 3.0 s -> 0.75 s); and an SSBO store runs a loop over the lanes and the components,
// so two texels leave in one u64vec4 store (wide_store.glsl).
// Bindings: 0 x imageBuffer [rows][n/4] (rgba32f, or rgba16f for 16-bit storage), 1 out [rows][n/8] (WIDE_T).
// Push constants: as softmax.comp (rows, n, row_stride, causal, block_rows, first_query, keys); n % 8 == 0.
// Spec constants: 0..2 workgroup size.
// Dispatch: grid_1d(rows, workgroup size), row = gid.y * row_stride + gid.x.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "wide_store.glsl"
VKD_LOCAL_SIZE;

layout(binding = 0, TEXEL4_FORMAT) uniform readonly imageBuffer X;
layout(std430, binding = 1) writeonly buffer O { WIDE_T o[]; };

layout(push_constant) uniform PC {
  uint rows;
  uint n;
  uint row_stride;
  uint causal;
  uint block_rows;
  uint first_query;
  uint keys;  // only keys [0, keys) take part (the rest: attention's zero padding)
} pc;

#include "softmax_row.glsl"

void main() {
  const uint row = gl_GlobalInvocationID.y * pc.row_stride + gl_GlobalInvocationID.x;
  if (row >= pc.rows) return;
  const int base4 = int(row * (pc.n / 4u));
  const uint valid = row_valid(row);
  float m = -3.0e38, l = 0.0;
  row_partial(base4, valid, 0u, 1u, m, l);
  const float inv = 1.0 / l;
  const uint base8 = row * (pc.n / 8u);
  for (uint i = 0u; i < pc.n / 8u; ++i)
    o[base8 + i] = to_wide(row_value(base4, 2u * i, valid, m, inv), row_value(base4, 2u * i + 1u, valid, m, inv));
}
