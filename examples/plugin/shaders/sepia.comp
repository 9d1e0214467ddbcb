// Sepia tone on an IMAGE tensor [B, H, W, C] (f32, channels last): the first three channels are mixed with the
// classic sepia matrix, then blended with the original by `strength`; further channels pass through.
#version 450
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) writeonly buffer Dst { float dst[]; };

layout(push_constant) uniform PC {
  uint pixels;    // B * H * W
  uint channels;  // C
  float strength;
} pc;

void main() {
  uint p = gl_GlobalInvocationID.x;
  if (p >= pc.pixels) return;
  uint base = p * pc.channels;
  for (uint c = 3u; c < pc.channels; ++c) dst[base + c] = src[base + c];
  vec3 rgb = vec3(src[base], src[base + 1u], src[base + 2u]);
  vec3 sepia = vec3(dot(rgb, vec3(0.393, 0.769, 0.189)), dot(rgb, vec3(0.349, 0.686, 0.168)),
                    dot(rgb, vec3(0.272, 0.534, 0.131)));
  vec3 outv = clamp(mix(rgb, sepia, pc.strength), 0.0, 1.0);
  dst[base] = outv.r;
  dst[base + 1u] = outv.g;
  dst[base + 2u] = outv.b;
}
