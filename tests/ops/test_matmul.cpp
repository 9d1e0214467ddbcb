// matmul / linear against the double-precision CPU reference (tests/reference/gemm_ref.h).
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <sstream>

#include "ops/activation.h"
#include "ops/matmul.h"
#include "ops/op_util.h"
#include "reference/gemm_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

struct MatmulCase {
  int64_t batch, M, K, N;  // batch 0: 2-D a
  bool b_broadcast, trans_b, bias, residual;
  float alpha;
  bool large;  // skipped in quick mode
};

// Measured: f32 nmse <= ~2e-14, f16 storage (output rounded to f16) <= ~1e-7.
double matmul_tolerance(const Precision& p) { return p.dtype == DType::F32 ? 1e-11 : 1e-6; }

std::string describe(const MatmulCase& c, const Precision& p) {
  std::ostringstream os;
  os << "matmul batch=" << c.batch << " M=" << c.M << " K=" << c.K << " N=" << c.N
     << " b_broadcast=" << c.b_broadcast << " trans_b=" << c.trans_b << " bias=" << c.bias
     << " residual=" << c.residual << " alpha=" << c.alpha << " " << p.name;
  return os.str();
}

std::vector<MatmulCase> matmul_cases() {
  std::vector<MatmulCase> all = {
      // odd shapes: tiles partly outside, K not a multiple of the k step
      {0, 1, 1, 1, true, false, false, false, 1.0f, false},
      {0, 7, 5, 3, true, false, true, false, 1.0f, false},
      {0, 33, 17, 65, true, true, true, true, 1.0f, false},
      {3, 19, 37, 23, false, false, false, true, 0.5f, false},
      {3, 19, 37, 23, true, true, true, false, 1.0f, false},
      {2, 64, 48, 40, false, true, false, false, 0.125f, false},
      // short N (the texel GEMM splits k over the lanes): 2, 5, 8 and 12 columns, k slices of unequal length
      {0, 30, 1280, 2, true, true, true, true, 1.0f, false},
      {0, 24, 40, 5, true, true, true, false, 1.0f, false},
      {0, 49, 88, 8, true, true, true, true, 0.5f, false},
      {3, 50, 64, 8, false, true, false, true, 1.0f, false},
      {0, 100, 72, 12, true, true, false, false, 1.0f, false},
      // SD1.5 shapes: attention projections, cross-attention k/v, attention scores / values, feed-forward
      {0, 77, 768, 320, true, true, false, false, 1.0f, false},
      {8, 256, 40, 77, false, true, false, false, 0.158113883f, false},
      {8, 256, 77, 40, false, false, false, false, 1.0f, false},
      {0, 256, 640, 640, true, true, true, true, 1.0f, false},
      {0, 4096, 320, 320, true, true, true, false, 1.0f, true},
      {0, 256, 640, 2560, true, true, true, false, 1.0f, true},
      {0, 64, 5120, 1280, true, true, true, true, 1.0f, true},
  };
  std::vector<MatmulCase> out;
  for (auto& c : all)
    if (!c.large || !quick()) out.push_back(c);
  return out;
}

class MatmulTest : public ::testing::TestWithParam<std::tuple<MatmulCase, Precision>> {};

TEST_P(MatmulTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  bool f16 = prec.dtype == DType::F16;
  int64_t B = std::max<int64_t>(c.batch, 1);
  int64_t bb = c.b_broadcast ? 1 : B;
  Shape as = c.batch ? Shape{B, c.M, c.K} : Shape{c.M, c.K};
  Shape bsh = c.trans_b ? Shape{c.N, c.K} : Shape{c.K, c.N};
  if (c.batch && !c.b_broadcast) bsh.insert(bsh.begin(), bb);
  Shape os = c.batch ? Shape{B, c.M, c.N} : Shape{c.M, c.N};
  auto av = random_normal(size_t(shape_numel(as)), 11, 1.0f, f16);
  auto bv = random_normal(size_t(shape_numel(bsh)), 12, 1.0f, f16);
  auto biasv = random_normal(size_t(c.N), 13, 1.0f, f16);
  auto resv = random_normal(size_t(shape_numel(os)), 14, 1.0f, f16);
  Tensor a = from_host(ts.s, as, prec.dtype, av), b = from_host(ts.s, bsh, prec.dtype, bv);
  Tensor bias = c.bias ? from_host(ts.s, {c.N}, prec.dtype, biasv) : Tensor();
  Tensor res = c.residual ? from_host(ts.s, os, prec.dtype, resv) : Tensor();
  Tensor out = ops::matmul(ts.s, a, b, c.trans_b, c.bias ? &bias : nullptr, c.residual ? &res : nullptr, c.alpha);
  ASSERT_EQ(out.shape(), os);
  auto got = to_host(ts.s, out);
  MatmulRefArgs r;
  r.batch = B, r.M = c.M, r.K = c.K, r.N = c.N, r.b_broadcast = c.b_broadcast, r.trans_b = c.trans_b;
  r.alpha = c.alpha, r.bias = c.bias ? &biasv : nullptr, r.residual = c.residual ? &resv : nullptr;
  auto idx = sample_indices(int64_t(got.size()), 3000, 7);
  std::vector<double> want(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) want[i] = matmul_ref_at(r, av, bv, idx[i]);
  EXPECT_TRUE(close_nmse_at(got, idx, want, matmul_tolerance(prec), describe(c, prec)));
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatmulTest, ::testing::Combine(::testing::ValuesIn(matmul_cases()),
                                                                ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           const MatmulCase& c = std::get<0>(info.param);
                           std::ostringstream os;
                           os << "b" << c.batch << "_" << c.M << "x" << c.K << "x" << c.N << (c.trans_b ? "_t" : "")
                              << (c.b_broadcast ? "_bc" : "") << (c.bias ? "_bias" : "") << (c.residual ? "_res" : "")
                              << "_" << info.index / precisions().size() << "_" << precision_name(std::get<1>(info.param));
                           return os.str();
                         });

struct LinearCase {
  Shape x;
  int64_t N;
  bool bias, residual;
};

class LinearTest : public ::testing::TestWithParam<std::tuple<LinearCase, Precision>> {};

TEST_P(LinearTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  bool f16 = prec.dtype == DType::F16;
  int64_t K = c.x.back(), rows = shape_numel(c.x) / K;
  Shape os = c.x;
  os.back() = c.N;
  auto xv = random_normal(size_t(shape_numel(c.x)), 21, 1.0f, f16);
  auto wv = random_normal(size_t(c.N * K), 22, 0.1f, f16);
  auto biasv = random_normal(size_t(c.N), 23, 1.0f, f16);
  auto resv = random_normal(size_t(shape_numel(os)), 24, 1.0f, f16);
  Tensor x = from_host(ts.s, c.x, prec.dtype, xv), w = from_host(ts.s, {c.N, K}, prec.dtype, wv);
  Tensor bias = from_host(ts.s, {c.N}, prec.dtype, biasv);
  Tensor res = from_host(ts.s, os, prec.dtype, resv);
  Tensor out = ops::linear(ts.s, x, w, c.bias ? &bias : nullptr, c.residual ? &res : nullptr);
  ASSERT_EQ(out.shape(), os);
  auto got = to_host(ts.s, out);
  MatmulRefArgs r;
  r.M = rows, r.K = K, r.N = c.N, r.b_broadcast = true, r.trans_b = true;
  r.bias = c.bias ? &biasv : nullptr, r.residual = c.residual ? &resv : nullptr;
  auto idx = sample_indices(int64_t(got.size()), 3000, 8);
  std::vector<double> want(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) want[i] = matmul_ref_at(r, xv, wv, idx[i]);
  std::ostringstream params;
  params << "linear x=" << shape_str(c.x) << " N=" << c.N << " bias=" << c.bias << " residual=" << c.residual << " "
         << prec.name;
  EXPECT_TRUE(close_nmse_at(got, idx, want, matmul_tolerance(prec), params.str()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, LinearTest,
                         ::testing::Combine(::testing::Values(LinearCase{{5}, 3, true, false},
                                                              LinearCase{{2, 3, 9}, 11, true, true},
                                                              LinearCase{{2, 77, 768}, 320, false, false},
                                                              LinearCase{{1, 1280}, 320, true, false},
                                                              LinearCase{{1, 256, 320}, 320, true, true},
                                                              // the UNet's 8x8 and 4x4 tokens in a cfg batch (128 and
                                                              // 32 rows): the texel GEMM swaps the operands
                                                              LinearCase{{2, 64, 1280}, 1280, true, true},
                                                              LinearCase{{2, 16, 640}, 640, true, false}),
                                            ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "case" + std::to_string(info.index / precisions().size()) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

void expect_op_error(const std::function<void()>& f, std::initializer_list<const char*> needles) {
  try {
    f();
    FAIL() << "expected an OpError";
  } catch (const ops::OpError& e) {
    for (const char* n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

TEST(MatmulErrors, BadShapesNameOperands) {
  TestStream ts(precisions()[0]);
  auto& ctx = context();
  Tensor a = Tensor::empty(ctx, {4, 5}, DType::F32), b = Tensor::empty(ctx, {6, 7}, DType::F32);
  expect_op_error([&] { ops::matmul(ts.s, a, b); }, {"matmul", "[4, 5]", "[6, 7]"});
  Tensor bt = Tensor::empty(ctx, {7, 5}, DType::F32), bias = Tensor::empty(ctx, {6}, DType::F32);
  expect_op_error([&] { ops::matmul(ts.s, a, bt, true, &bias); }, {"matmul", "bias", "[6]"});
  Tensor res = Tensor::empty(ctx, {4, 6}, DType::F32);
  expect_op_error([&] { ops::matmul(ts.s, a, bt, true, nullptr, &res); }, {"matmul", "residual", "[4, 7]"});
  Tensor a3 = Tensor::empty(ctx, {2, 4, 5}, DType::F32), b3 = Tensor::empty(ctx, {3, 5, 7}, DType::F32);
  expect_op_error([&] { ops::matmul(ts.s, a3, b3); }, {"matmul", "[2, 4, 5]", "[3, 5, 7]"});
  Tensor a1 = Tensor::empty(ctx, {5}, DType::F32);
  expect_op_error([&] { ops::matmul(ts.s, a1, b); }, {"matmul", "[5]"});
  if (context().caps().fp16_storage) {
    Tensor bh = Tensor::empty(ctx, {5, 7}, DType::F16);
    expect_op_error([&] { ops::matmul(ts.s, a, bh); }, {"matmul"});
  }
  Tensor w = Tensor::empty(ctx, {3, 6}, DType::F32);
  expect_op_error([&] { ops::linear(ts.s, a, w, nullptr); }, {"linear", "[4, 5]", "[3, 6]"});
}


// linear_geglu = geglu(linear(x, weight, bias)): on lavapipe (f32) one product with the GEGLU epilogue over the
// weight's interleaved rows, kept with a model weight (weights pool) and made per call otherwise; 12 features (3
// blocks of 4), no bias, f16 and a short x whose product swaps operands (the two ops) must all agree.
TEST(LinearGeglu, EqualsGegluOfLinear) {
  struct Case {
    Shape x;
    int64_t N;
    bool bias, model_weight;
  };
  for (const Case& c : {Case{{2, 96, 64}, 256, true, true}, Case{{2, 96, 64}, 256, true, false},
                        Case{{100, 40}, 24, false, true}, Case{{2, 16, 512}, 64, true, true}})
    for (const Precision& prec : precisions()) {
      SCOPED_TRACE(shape_str(c.x) + " N " + std::to_string(c.N) + (c.model_weight ? " model weight " : " ") + prec.name);
      TestStream ts(prec);
      const bool f16 = prec.dtype == DType::F16;
      const int64_t K = c.x.back();
      Tensor x = from_host(ts.s, c.x, prec.dtype, random_normal(size_t(shape_numel(c.x)), 41, 1.0f, f16));
      Tensor w = Tensor::empty(context(), {c.N, K}, prec.dtype, c.model_weight ? &context().weights() : nullptr);
      upload(ts.s, w, random_normal(size_t(c.N * K), 42, 0.2f, f16));
      Tensor b = from_host(ts.s, {c.N}, prec.dtype, random_normal(size_t(c.N), 43, 1.0f, f16));
      for (int run = 0; run < 2; ++run) {  // the second with the kept rows
        auto got = to_host(ts.s, ops::linear_geglu(ts.s, x, w, c.bias ? &b : nullptr));
        auto want = to_host(ts.s, ops::geglu(ts.s, ops::linear(ts.s, x, w, c.bias ? &b : nullptr)));
        ASSERT_EQ(got.size(), want.size());
        EXPECT_TRUE(close_nmse(got, std::vector<double>(want.begin(), want.end()), 1e-12, "linear_geglu"));
      }
    }
}

}  // namespace
}  // namespace vkdream::test
