// 2-D resize of NCHW planes, one output pixel per invocation, matching
// torch.nn.functional.interpolate(align_corners=False) / adaptive_avg_pool2d:
//   MODE 0 nearest        src = min(floor(dst * scale), in - 1)
//   MODE 1 nearest-exact  src = min(floor((dst + 0.5) * scale), in - 1)
//   MODE 2 bilinear       src = max((dst + 0.5) * scale - 0.5, 0); taps floor(src), +1 (border-clamped)
//   MODE 3 bicubic        src = (dst + 0.5) * scale - 0.5; Keys A = -0.75 on taps floor(src)-1..+2,
//                         each clamped into [0, in - 1]
//   MODE 4 area           mean over [floor(dst * in / out), ceil((dst + 1) * in / out))
// with scale = in / out rounded to f32 on the host (as PyTorch does). Sums in f32.
// Bindings: 0 x [planes, in_h, in_w] (STORE_T), 1 out [planes, out_h, out_w] (STORE_T).
// Push constants: in_h, in_w, out_h, out_w, scale_h, scale_w, plane_offset (first plane of this
//   dispatch, counted from the windows' first plane), x_base, y_base (elements from each binding's
//   start to the window's first plane: tensors larger than one binding go in windows of whole planes).
// Spec constants: 0..2 workgroup size (wx, wy, 1); 3 MODE (above).
// Dispatch: (ceil(out_w / wx), ceil(out_h / wy), planes of this dispatch); the grid supplies the
//   coordinates, so no per-invocation integer division (which lavapipe scalarizes).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
#include "resize_kernels.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint MODE = 0;

layout(std430, binding = 0) readonly buffer X { STORE_T x[]; };
layout(std430, binding = 1) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  uint in_h;
  uint in_w;
  uint out_h;
  uint out_w;
  float scale_h;
  float scale_w;
  uint plane_offset;
  uint x_base;
  uint y_base;
} pc;

float at(uint base, uint y, uint xx) { return float(x[base + y * pc.in_w + xx]); }

void main() {
  uint ox = gl_GlobalInvocationID.x, oy = gl_GlobalInvocationID.y;
  if (ox >= pc.out_w || oy >= pc.out_h) return;
  uint plane = pc.plane_offset + gl_WorkGroupID.z;
  uint base = pc.x_base + plane * pc.in_h * pc.in_w;
  uint i = pc.y_base + (plane * pc.out_h + oy) * pc.out_w + ox;
  float v;
  if (MODE == 0u || MODE == 1u) {
    float off = MODE == 1u ? 0.5 : 0.0;
    precise float fy = (float(oy) + off) * pc.scale_h;
    precise float fx = (float(ox) + off) * pc.scale_w;
    uint sy = min(uint(floor(fy)), pc.in_h - 1u);
    uint sx = min(uint(floor(fx)), pc.in_w - 1u);
    v = at(base, sy, sx);
  } else if (MODE == 2u) {
    float ry = max(resize_source_coord(oy, pc.scale_h), 0.0);
    float rx = max(resize_source_coord(ox, pc.scale_w), 0.0);
    uint y0 = min(uint(ry), pc.in_h - 1u), x0 = min(uint(rx), pc.in_w - 1u);
    float ly = clamp(ry - float(y0), 0.0, 1.0), lx = clamp(rx - float(x0), 0.0, 1.0);
    uint y1 = y0 + (y0 < pc.in_h - 1u ? 1u : 0u), x1 = x0 + (x0 < pc.in_w - 1u ? 1u : 0u);
    v = (1.0 - ly) * ((1.0 - lx) * at(base, y0, x0) + lx * at(base, y0, x1)) +
        ly * ((1.0 - lx) * at(base, y1, x0) + lx * at(base, y1, x1));
  } else if (MODE == 3u) {
    float ry = resize_source_coord(oy, pc.scale_h);
    float rx = resize_source_coord(ox, pc.scale_w);
    int iy = min(int(floor(ry)), int(pc.in_h) - 1), ix = min(int(floor(rx)), int(pc.in_w) - 1);
    vec4 wy = resize_cubic_weights(clamp(ry - float(iy), 0.0, 1.0));
    vec4 wx = resize_cubic_weights(clamp(rx - float(ix), 0.0, 1.0));
    int hy = int(pc.in_h) - 1, hx = int(pc.in_w) - 1;
    uvec4 xs = uvec4(clamp(ix - 1, 0, hx), clamp(ix, 0, hx), clamp(ix + 1, 0, hx), clamp(ix + 2, 0, hx));
    v = 0.0;
    [[unroll]] for (int k = 0; k < 4; ++k) {
      uint y = uint(clamp(iy - 1 + k, 0, hy));
      vec4 row = vec4(at(base, y, xs.x), at(base, y, xs.y), at(base, y, xs.z), at(base, y, xs.w));
      v += wy[k] * dot(wx, row);
    }
  } else {
    uint y0 = (oy * pc.in_h) / pc.out_h, y1 = ((oy + 1u) * pc.in_h + pc.out_h - 1u) / pc.out_h;
    uint x0 = (ox * pc.in_w) / pc.out_w, x1 = ((ox + 1u) * pc.in_w + pc.out_w - 1u) / pc.out_w;
    float sum = 0.0;
    for (uint y = y0; y < y1; ++y)
      for (uint xx = x0; xx < x1; ++xx) sum += at(base, y, xx);
    v = sum / float((y1 - y0) * (x1 - x0));
  }
  o[i] = STORE_T(v);
}
