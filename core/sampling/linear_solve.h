// Small dense linear systems of the multistep samplers' coefficients (UniPC's rhos, SA-Solver's Lagrange
// weights): Gaussian elimination with partial pivoting, in double, on the CPU.
#pragma once
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace vkdream::sampling {

// Solves A y = b. Throws std::invalid_argument("<what>: singular system") on a zero pivot.
inline std::vector<double> solve_linear(std::vector<std::vector<double>> A, std::vector<double> b,
                                        const char* what = "solve_linear") {
  const size_t n = b.size();
  for (size_t c = 0; c < n; ++c) {
    size_t p = c;
    for (size_t r = c + 1; r < n; ++r)
      if (std::abs(A[r][c]) > std::abs(A[p][c])) p = r;
    std::swap(A[c], A[p]);
    std::swap(b[c], b[p]);
    if (A[c][c] == 0.0) throw std::invalid_argument(std::string(what) + ": singular system");
    for (size_t r = c + 1; r < n; ++r) {
      double f = A[r][c] / A[c][c];
      for (size_t k = c; k < n; ++k) A[r][k] -= f * A[c][k];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> y(n);
  for (size_t i = n; i-- > 0;) {
    double v = b[i];
    for (size_t k = i + 1; k < n; ++k) v -= A[i][k] * y[k];
    y[i] = v / A[i][i];
  }
  return y;
}

}  // namespace vkdream::sampling
