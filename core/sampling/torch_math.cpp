#include "sampling/torch_math.h"

#include <cmath>

namespace vkdream::sampling {

std::vector<double> linspace_f64(double start, double end, int n) {
  std::vector<double> out(size_t(n > 0 ? n : 0));
  if (n == 1) out[0] = start;
  if (n <= 1) return out;
  double step = (end - start) / double(n - 1);
  int halfway = n / 2;
  for (int i = 0; i < n; ++i) out[size_t(i)] = i < halfway ? start + step * i : end - step * (n - i - 1);
  return out;
}

std::vector<float> linspace_f32(double start_d, double end_d, int n) {
  std::vector<float> out(size_t(n > 0 ? n : 0));
  float start = float(start_d), end = float(end_d);
  if (n == 1) out[0] = start;
  if (n <= 1) return out;
  float step = (end - start) / float(n - 1);
  int halfway = n / 2;
  for (int i = 0; i < n; ++i) out[size_t(i)] = i < halfway ? start + step * float(i) : end - step * float(n - i - 1);
  return out;
}

namespace {
// Continued fraction for I_x(a, b) (modified Lentz), valid for x < (a + 1) / (a + b + 2).
double beta_cf(double x, double a, double b) {
  const double tiny = 1e-300;
  double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0, d = 1.0 - qab * x / qap;
  if (std::fabs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < 1e-16) break;
  }
  return h;
}
}  // namespace

double regularized_incomplete_beta(double x, double a, double b) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  double lbt = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  double bt = std::exp(lbt);
  if (x < (a + 1.0) / (a + b + 2.0)) return bt * beta_cf(x, a, b) / a;
  return 1.0 - bt * beta_cf(1.0 - x, b, a) / b;
}

double beta_ppf(double p, double a, double b) {
  if (!(p > 0.0)) return 0.0;
  if (!(p < 1.0)) return 1.0;
  // Symmetric case: the median is exactly 1/2 (the beta scheduler rounds 0.5 * 999 to even, so
  // this value must be exact, as SciPy's is).
  if (a == b && p == 0.5) return 0.5;
  // I_x is increasing in x: bisect to the last bit.
  double lo = 0.0, hi = 1.0;
  for (int i = 0; i < 200 && hi - lo > 0; ++i) {
    double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    if (regularized_incomplete_beta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace vkdream::sampling
