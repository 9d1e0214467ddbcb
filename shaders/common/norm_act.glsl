// Activation functions shared by the norm and activation shaders. All take and return float:
// these ops are memory-bound, so computing in f32 costs nothing and keeps f16 variants exact
// up to the storage rounding.

// SiLU (swish): x * sigmoid(x). For x -> -inf, exp overflows to inf and the result is -0.
float act_silu(float x) { return x / (1.0 + exp(-x)); }

// QuickGELU (OpenAI CLIP): x * sigmoid(1.702 x).
float act_quick_gelu(float x) { return x / (1.0 + exp(-1.702 * x)); }

// erfc(z) for z >= 0 as exp(-z^2) times a Chebyshev-fitted polynomial in t = 1 / (1 + z/2)
// (the classic approximation of Numerical Recipes' "erfcc": relative error below ~1.2e-7 over
// the whole range). z2 is z^2 given as an unevaluated sum hi + lo (see act_gelu): rounding z^2
// to one float would cost a relative error of z^2 * 6e-8 in the tail. Relative accuracy
// matters for GELU at negative x, where 1 + erf(x) would cancel.
float norm_erfc_pos(float z, float z2_hi, float z2_lo) {
  float t = 1.0 / (1.0 + 0.5 * z);
  float p = 0.17087277;
  p = p * t - 0.82215223;
  p = p * t + 1.48851587;
  p = p * t - 1.13520398;
  p = p * t + 0.27886807;
  p = p * t - 0.18628806;
  p = p * t + 0.09678418;
  p = p * t + 0.37409196;
  p = p * t + 1.00002368;
  p = p * t - 1.26551223;
  return t * exp(p - z2_lo) * exp(-z2_hi);
}

// erf(x) for any x (GELU uses the erfc form directly).
float norm_erf(float x) {
  precise float hi = x * x;
  float c = norm_erfc_pos(abs(x), hi, fma(x, x, -hi));
  return x >= 0.0 ? 1.0 - c : c - 1.0;
}

// GELU, exact (erf) form as torch.nn.functional.gelu(approximate='none'):
//   0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2).
// z^2 = x^2 / 2 is formed exactly from x as hi + lo (halving is exact).
float act_gelu(float x) {
  precise float hi = x * x;
  float lo = fma(x, x, -hi);
  float c = norm_erfc_pos(abs(x) * 0.70710678118654752, 0.5 * hi, 0.5 * lo);  // erfc(|x|/sqrt2)
  return 0.5 * x * (x >= 0.0 ? 2.0 - c : c);
}
