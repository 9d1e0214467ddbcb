// Batched 2-D transpose through a shared-memory tile: x [B, R, C] -> out [B, C, R]
// (what NCHW <-> NHWC permutes collapse to). Reads and writes both run along rows.
// Bindings: 0 x (STORE_T), 1 out (STORE_T).
// Push constants: R, C.
// Spec constants: 0..2 workgroup size, must be (TILE, TILE / ROWS_PER_STEP, 1); 3 TILE (32).
// Dispatch: (ceil(C / TILE), ceil(R / TILE), B).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint TILE = 32;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  uint R;
  uint C;
} pc;

// float whatever the storage type: 16-bit shared memory is a separate device feature.
shared float tile[TILE][TILE + 1];

void main() {
  uint lx = gl_LocalInvocationID.x, ly = gl_LocalInvocationID.y, step = gl_WorkGroupSize.y;
  uint r0 = gl_WorkGroupID.y * TILE, c0 = gl_WorkGroupID.x * TILE;
  uint base = gl_WorkGroupID.z * pc.R * pc.C;
  for (uint k = ly; k < TILE; k += step) {
    uint r = r0 + k, c = c0 + lx;
    if (r < pc.R && c < pc.C) tile[k][lx] = float(x[base + r * pc.C + c]);
  }
  barrier();
  for (uint k = ly; k < TILE; k += step) {
    uint c = c0 + k, r = r0 + lx;
    if (c < pc.C && r < pc.R) o[base + c * pc.R + r] = STORE_T(tile[lx][k]);
  }
}
