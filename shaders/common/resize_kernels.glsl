// Interpolation kernels shared by the resize shaders, written to match PyTorch's upsample
// kernels (align_corners=False) operation for operation in f32.

// Keys cubic convolution with A = -0.75 (PyTorch's bicubic): the weights of the taps at
// floor(src) - 1 .. floor(src) + 2 for the fraction t in [0, 1].
vec4 resize_cubic_weights(float t) {
  const float A = -0.75;
  float x1 = t + 1.0, x2 = 1.0 - t, x3 = 2.0 - t;
  vec4 w;
  w.x = ((A * x1 - 5.0 * A) * x1 + 8.0 * A) * x1 - 4.0 * A;  // |d| in (1, 2)
  w.y = ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0;            // |d| <= 1
  w.z = ((A + 2.0) * x2 - (A + 3.0)) * x2 * x2 + 1.0;
  w.w = ((A * x3 - 5.0 * A) * x3 + 8.0 * A) * x3 - 4.0 * A;
  return w;
}

// The fractional source coordinate of output pixel `dst` at scale in/out (align_corners=False).
float resize_source_coord(uint dst, float scale) {
  precise float s = scale * (float(dst) + 0.5) - 0.5;  // no fma: round like PyTorch
  return s;
}
