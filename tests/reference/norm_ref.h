// Naive double-precision references for the norm and activation families (core/ops/norm.h,
// core/ops/activation.h). Whole-tensor versions for small shapes; per-element versions for
// sampling big ones.
#pragma once
#include <cstdint>
#include <vector>

namespace vkdream::test::ref {

double silu(double x);
double gelu(double x);  // exact: 0.5 x (1 + erf(x / sqrt 2))
double quick_gelu(double x);

// Per-(n, group) mean and 1/sqrt(var + eps) (biased variance) of x [N, C, HW].
struct GroupStats {
  std::vector<double> mean, rstd;  // index n * groups + g
};
GroupStats group_norm_stats(const std::vector<float>& x, int64_t N, int64_t C, int64_t HW, int groups, double eps);
// GroupNorm output at flat index i of x [N, C, HW], from precomputed stats.
double group_norm_at(const std::vector<float>& x, const GroupStats& st, const std::vector<float>& gamma,
                     const std::vector<float>& beta, int64_t C, int64_t HW, int groups, bool silu, int64_t i);

// LayerNorm of one row (C elements at x[row * C]) into out[0..C).
void layer_norm_row(const std::vector<float>& x, const std::vector<float>& gamma, const std::vector<float>& beta,
                    int64_t C, int64_t row, double eps, double* out);

// GEGLU output at flat index i of y [rows, F] from x [rows, 2F].
double geglu_at(const std::vector<float>& x, int64_t F, int64_t i);

}  // namespace vkdream::test::ref
