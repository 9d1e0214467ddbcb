// row_l2_norm against a double-precision CPU reference: odd shapes, rows longer than the workgroup, the
// real SD1.5 DoRA shapes (a conv weight per output channel, and per input channel after a permute), f32/f16.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "ops/row_norm.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

struct RowNormCase {
  Shape shape;
  float eps;
};

class RowNormTest : public ::testing::TestWithParam<std::tuple<RowNormCase, Precision>> {};

TEST_P(RowNormTest, MatchesReference) {
  auto [c, prec] = GetParam();
  if (quick() && shape_numel(c.shape) > 1000000) GTEST_SKIP() << "large shape skipped in quick mode";
  TestStream ts(prec);
  const bool f16 = prec.dtype == DType::F16;
  auto xv = random_normal(size_t(shape_numel(c.shape)), 7, 0.05f, f16);
  Tensor x = from_host(ts.s, c.shape, prec.dtype, xv);
  Tensor out = ops::row_l2_norm(ts.s, x, c.eps);
  ASSERT_EQ(out.dtype(), DType::F32);
  ASSERT_EQ(out.shape(), Shape({c.shape[0]}));
  auto got = to_host(ts.s, out);
  const int64_t rows = c.shape[0], cols = shape_numel(c.shape) / rows;
  std::vector<double> want(size_t(rows), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t i = 0; i < cols; ++i) sum += double(xv[size_t(r * cols + i)]) * xv[size_t(r * cols + i)];
    want[size_t(r)] = std::sqrt(sum) + c.eps;
  }
  // Inputs are exact in either storage and the sum is f32 in every variant: a few f32 roundings per row.
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]) / want[i]);
  std::ostringstream params;
  params << "row_l2_norm x=" << shape_str(c.shape) << " eps=" << c.eps << " " << prec.name;
  EXPECT_LE(worst, 1e-5) << params.str();
  std::printf("[row_l2_norm] %s: max relative error %.3g\n", params.str().c_str(), worst);
  EXPECT_TRUE(close_nmse(got, want, 1e-11, params.str()));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, RowNormTest,
    ::testing::Combine(::testing::Values(RowNormCase{{1}, 0.0f}, RowNormCase{{7, 3}, 0.0f},
                                         RowNormCase{{5, 1000}, 1.1920929e-07f}, RowNormCase{{3, 7, 3, 3}, 0.0f},
                                         RowNormCase{{320, 320, 3, 3}, 1.1920929e-07f},  // conv, per output channel
                                         RowNormCase{{1280, 2560}, 0.0f}),               // per input channel
                       ::testing::ValuesIn(precisions())),
    [](const auto& info) {
      return "case" + std::to_string(info.index / precisions().size()) + "_" + precision_name(std::get<1>(info.param));
    });

TEST(RowNorm, ZeroRowGivesEps) {
  TestStream ts(precisions()[0]);
  Tensor x = from_host(ts.s, {2, 3}, DType::F32, {0, 0, 0, 3, 4, 0});
  auto got = to_host(ts.s, ops::row_l2_norm(ts.s, x, 0.25f));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], 0.25f);
  EXPECT_EQ(got[1], 5.25f);
}

// Rows split over several bindings (a context whose binding range is lowered to 64 KiB) give the same norms.
TEST(RowNorm, RowsSplitAcrossBindings) {
  vk::ContextOptions o;
  o.max_binding_bytes = 64 * 1024;
  vk::Context small_ctx(o);
  vk::Stream small(small_ctx), big(context());
  const Shape shape = {301, 100};  // 120 KB of f32: three windows
  auto xv = random_normal(size_t(shape_numel(shape)), 11, 1.0f);
  auto split = to_host(small, ops::row_l2_norm(small, from_host(small, shape, DType::F32, xv), 1e-3f));
  auto whole = to_host(big, ops::row_l2_norm(big, from_host(big, shape, DType::F32, xv), 1e-3f));
  EXPECT_EQ(split, whole);
}

}  // namespace
}  // namespace vkdream::test
