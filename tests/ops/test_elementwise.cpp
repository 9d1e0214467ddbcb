// Elementwise binary ops with broadcasting, against a double-precision CPU reference.
#include <gtest/gtest.h>

#include <sstream>

#include "ops/elementwise.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

struct BinaryCase {
  Shape a, b;
  ops::BinaryOp op;
};

std::vector<double> reference_binary(const BinaryCase& c, const std::vector<float>& a, const std::vector<float>& b,
                                     const Shape& out) {
  size_t r = out.size();
  auto pad = [&](const Shape& s) {
    Shape p(r, 1);
    for (size_t i = 0; i < s.size(); ++i) p[r - s.size() + i] = s[i];
    return p;
  };
  Shape pa = pad(c.a), pb = pad(c.b);
  int64_t n = shape_numel(out);
  std::vector<double> want(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
    for (int d = int(r) - 1; d >= 0; --d) {
      int64_t idx = rem % out[d];
      rem /= out[d];
      ia += (pa[d] == 1 ? 0 : idx) * sa;
      ib += (pb[d] == 1 ? 0 : idx) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    double x = a[size_t(ia)], y = b[size_t(ib)];
    switch (c.op) {
      case ops::BinaryOp::kAdd: want[size_t(i)] = x + y; break;
      case ops::BinaryOp::kSub: want[size_t(i)] = x - y; break;
      case ops::BinaryOp::kMul: want[size_t(i)] = x * y; break;
      case ops::BinaryOp::kDiv: want[size_t(i)] = x / y; break;
    }
  }
  return want;
}

class BinaryTest : public ::testing::TestWithParam<std::tuple<BinaryCase, Precision>> {};

TEST_P(BinaryTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  bool f16 = prec.dtype == DType::F16;
  auto av = random_normal(size_t(shape_numel(c.a)), 1, 1.0f, f16);
  auto bv = c.op == ops::BinaryOp::kDiv ? random_uniform(size_t(shape_numel(c.b)), 2, 0.5f, 2.0f, f16)
                                         : random_normal(size_t(shape_numel(c.b)), 2, 1.0f, f16);
  Tensor a = from_host(ts.s, c.a, prec.dtype, av);
  Tensor b = from_host(ts.s, c.b, prec.dtype, bv);
  Tensor out = ops::binary(ts.s, c.op, a, b);
  auto got = to_host(ts.s, out);
  auto want = reference_binary(c, av, bv, out.shape());
  std::ostringstream params;
  params << "binary op=" << int(c.op) << " a=" << shape_str(c.a) << " b=" << shape_str(c.b) << " " << prec.name;
  EXPECT_TRUE(close_nmse(got, want, default_tolerance(prec.name), params.str()));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, BinaryTest,
    ::testing::Combine(::testing::Values(BinaryCase{{7}, {7}, ops::BinaryOp::kAdd},
                                         BinaryCase{{3, 5}, {1, 5}, ops::BinaryOp::kSub},
                                         BinaryCase{{2, 3, 5, 7}, {3, 1, 1}, ops::BinaryOp::kMul},
                                         BinaryCase{{2, 320, 64, 64}, {1, 320, 1, 1}, ops::BinaryOp::kAdd},
                                         BinaryCase{{4096, 320}, {4096, 320}, ops::BinaryOp::kMul},
                                         BinaryCase{{5, 1}, {1, 6}, ops::BinaryOp::kDiv},
                                         // one b per row of 8k values (a CPU device's binary_rows_lanes.comp)
                                         BinaryCase{{2, 320, 8, 8}, {2, 320, 1, 1}, ops::BinaryOp::kAdd},
                                         BinaryCase{{3, 4, 16}, {3, 4, 1}, ops::BinaryOp::kSub},
                                         BinaryCase{{6, 16}, {6, 1}, ops::BinaryOp::kMul},
                                         BinaryCase{{2, 5, 8}, {2, 5, 1}, ops::BinaryOp::kDiv}),
                       ::testing::ValuesIn(precisions())),
    [](const auto& info) {
      return "case" + std::to_string(info.index / precisions().size()) + "_" +
             precision_name(std::get<1>(info.param));
    });

TEST(BinaryErrors, IncompatibleShapesNameBoth) {
  TestStream ts(precisions()[0]);
  Tensor a = Tensor::empty(context(), {3, 4}, DType::F32);
  Tensor b = Tensor::empty(context(), {5}, DType::F32);
  try {
    ops::add(ts.s, a, b);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[3, 4]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[5]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vkdream::test

namespace vkdream::test {
namespace {

class LincombTest : public ::testing::TestWithParam<std::tuple<int, Precision>> {};

TEST_P(LincombTest, MatchesReference) {
  auto [n, prec] = GetParam();
  TestStream ts(prec);
  Shape shape{2, 4, 9, 7};
  int64_t numel = shape_numel(shape);
  std::vector<std::vector<float>> host;
  std::vector<Tensor> xs;
  std::vector<ops::Term> terms;
  for (int k = 0; k < n; ++k) {
    host.push_back(random_normal(size_t(numel), uint32_t(10 + k), 50.0f, prec.dtype == DType::F16));
    xs.push_back(from_host(ts.s, shape, prec.dtype, host.back()));
  }
  for (int k = 0; k < n; ++k) terms.push_back({0.5 - 0.3 * k, &xs[size_t(k)]});
  Tensor out = ops::lincomb(ts.s, terms, 0.25);
  auto got = to_host(ts.s, out);
  std::vector<double> want(static_cast<size_t>(numel), 0.25);
  for (int k = 0; k < n; ++k)
    for (int64_t i = 0; i < numel; ++i) want[size_t(i)] += (0.5 - 0.3 * k) * host[size_t(k)][size_t(i)];
  EXPECT_TRUE(close_nmse(got, want, prec.dtype == DType::F32 ? 1e-12 : 2e-6,
                         "lincomb n=" + std::to_string(n) + " " + prec.name));
}

INSTANTIATE_TEST_SUITE_P(Terms, LincombTest, ::testing::Combine(::testing::Values(1, 2, 3, 6), ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "n" + std::to_string(std::get<0>(info.param)) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

TEST(LincombErrors, ShapeMismatchAndTermCount) {
  TestStream ts(precisions()[0]);
  Tensor a = Tensor::empty(context(), {4}, DType::F32);
  Tensor b = Tensor::empty(context(), {5}, DType::F32);
  EXPECT_THROW(ops::lincomb(ts.s, {{1.0, &a}, {1.0, &b}}), std::invalid_argument);
  EXPECT_THROW(ops::lincomb(ts.s, {}), std::invalid_argument);
}

}  // namespace
}  // namespace vkdream::test

namespace vkdream::test {
namespace {

class AffineClampTest : public ::testing::TestWithParam<Precision> {};

TEST_P(AffineClampTest, MatchesReference) {
  const Precision& prec = GetParam();
  TestStream ts(prec);
  Shape shape{1, 3, 17, 23};
  auto host = random_normal(size_t(shape_numel(shape)), 77, 1.5f, prec.dtype == DType::F16);
  Tensor x = from_host(ts.s, shape, prec.dtype, host);
  auto got = to_host(ts.s, ops::clamp01_affine(ts.s, x, 0.5f, 0.5f));
  std::vector<double> want;
  for (float v : host) want.push_back(std::min(1.0, std::max(0.0, v * 0.5 + 0.5)));
  EXPECT_TRUE(close_nmse(got, want, default_tolerance(prec.name), std::string("affine_clamp ") + prec.name));
  for (float v : got) ASSERT_TRUE(v >= 0.0f && v <= 1.0f);
}

INSTANTIATE_TEST_SUITE_P(Precisions, AffineClampTest, ::testing::ValuesIn(precisions()),
                         [](const auto& info) { return precision_name(info.param); });

}  // namespace
}  // namespace vkdream::test
