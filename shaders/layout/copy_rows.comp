// Strided block copy: for row < rows, j < len:
//   out[row * dst_stride + dst_offset + j] = x[row * src_stride + src_offset + j]
// (concat writes each part into its columns of the output; slice reads its columns).
// The grid supplies (j, row) directly: no integer division, which lavapipe scalarizes.
// Bindings: 0 x (STORE_T), 1 out (STORE_T).
// Push constants: len, rows, src_stride, src_offset, dst_stride, dst_offset (elements),
//   rows_per_z (rows covered by one z slice of the grid).
// Spec constants: 0..2 workgroup size (wx, wy, 1).
// Dispatch: (ceil(len / wx), ceil(min(rows, rows_per_z) / wy), ceil(rows / rows_per_z)).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  uint len;
  uint rows;
  uint src_stride;
  uint src_offset;
  uint dst_stride;
  uint dst_offset;
  uint rows_per_z;
} pc;

void main() {
  uint j = gl_GlobalInvocationID.x;
  uint row = gl_WorkGroupID.z * pc.rows_per_z + gl_GlobalInvocationID.y;
  if (j >= pc.len || gl_GlobalInvocationID.y >= pc.rows_per_z || row >= pc.rows) return;
  o[row * pc.dst_stride + pc.dst_offset + j] = x[row * pc.src_stride + pc.src_offset + j];
}
