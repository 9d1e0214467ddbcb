// conv2d against the double-precision CPU reference (tests/reference/gemm_ref.h).
#include <gtest/gtest.h>

#include <functional>
#include <sstream>

#include "ops/conv2d.h"
#include "ops/op_util.h"
#include "reference/gemm_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

struct ConvCase {
  int64_t N, C, H, W, O, kh, kw;
  int stride, padding;
  bool bias, residual;
  bool large;  // skipped in quick mode
};

// Measured: f32 nmse <= ~2e-14, f16 storage (output rounded to f16) <= ~1e-7.
double conv_tolerance(const Precision& p) { return p.dtype == DType::F32 ? 1e-11 : 1e-6; }

std::string describe(const ConvCase& c, const Precision& p) {
  std::ostringstream os;
  os << "conv2d N=" << c.N << " C=" << c.C << " H=" << c.H << " W=" << c.W << " O=" << c.O << " k=" << c.kh << "x"
     << c.kw << " stride=" << c.stride << " padding=" << c.padding << " bias=" << c.bias << " residual=" << c.residual
     << " " << p.name;
  return os.str();
}

std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> all = {
      // odd shapes
      {1, 3, 7, 5, 5, 3, 3, 1, 1, true, false, false},
      {2, 5, 6, 9, 7, 1, 1, 1, 0, true, true, false},
      {1, 4, 9, 7, 6, 3, 3, 2, 1, false, false, false},
      {2, 3, 8, 6, 33, 2, 5, 1, 0, true, true, false},
      {1, 17, 5, 5, 3, 3, 3, 2, 0, true, false, false},
      {1, 2, 3, 3, 2, 3, 3, 1, 2, false, false, false},
      // Winograd F(2x2, 3x3) in f32 (3x3, stride 1, C % 8 == 0, 512+ output pixels): odd sizes (partial tiles),
      // padding 0 and 2, several images, the smallest C; 4-wide output rows
      {3, 16, 19, 23, 24, 3, 3, 1, 1, true, true, false},
      {1, 8, 33, 40, 10, 3, 3, 1, 0, true, false, false},
      {2, 24, 20, 17, 9, 3, 3, 1, 2, false, true, false},
      {2, 16, 21, 12, 16, 3, 3, 1, 1, true, true, false},  // 4 | Wo: two tiles per output invocation, odd Ho
      {2, 16, 21, 16, 12, 3, 3, 1, 1, true, true, false},  // 8 | Wo: four tiles, rows stored 8-wide, odd Ho
      {1, 8, 14, 24, 8, 3, 3, 1, 1, false, false, false},
      // SD1.5 shapes: conv_in, conv_out, ResBlock 1x1 skip and 3x3 (fused bias + residual), downsample
      {1, 4, 64, 64, 320, 3, 3, 1, 1, true, false, false},
      {1, 320, 32, 32, 4, 3, 3, 1, 1, true, false, false},
      {2, 320, 16, 16, 640, 1, 1, 1, 0, true, true, false},
      {1, 640, 8, 8, 640, 3, 3, 1, 1, true, true, true},
      {2, 320, 32, 32, 320, 3, 3, 1, 1, true, true, true},
      {1, 320, 32, 32, 320, 3, 3, 2, 1, true, false, true},
      {1, 1280, 4, 4, 1280, 3, 3, 1, 1, true, true, true},
      // the VAE decoder's last level: im2col exceeds one binding (302 MB in f32), so it runs in pixel chunks
      {2, 128, 256, 256, 8, 3, 3, 1, 1, true, true, true},
  };
  std::vector<ConvCase> out;
  for (auto& c : all)
    if (!c.large || !quick()) out.push_back(c);
  return out;
}

class Conv2dTest : public ::testing::TestWithParam<std::tuple<ConvCase, Precision>> {};

TEST_P(Conv2dTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  bool f16 = prec.dtype == DType::F16;
  Conv2dRefArgs r;
  r.N = c.N, r.C = c.C, r.H = c.H, r.W = c.W, r.O = c.O, r.kh = c.kh, r.kw = c.kw, r.stride = c.stride,
  r.padding = c.padding;
  Shape xs{c.N, c.C, c.H, c.W}, ws{c.O, c.C, c.kh, c.kw}, os{c.N, c.O, r.Ho(), r.Wo()};
  auto xv = random_normal(size_t(shape_numel(xs)), 31, 1.0f, f16);
  auto wv = random_normal(size_t(shape_numel(ws)), 32, 0.1f, f16);
  auto biasv = random_normal(size_t(c.O), 33, 1.0f, f16);
  auto resv = random_normal(size_t(shape_numel(os)), 34, 1.0f, f16);
  Tensor x = from_host(ts.s, xs, prec.dtype, xv), w = from_host(ts.s, ws, prec.dtype, wv);
  Tensor bias = c.bias ? from_host(ts.s, {c.O}, prec.dtype, biasv) : Tensor();
  Tensor res = c.residual ? from_host(ts.s, os, prec.dtype, resv) : Tensor();
  Tensor out = ops::conv2d(ts.s, x, w, c.bias ? &bias : nullptr, {c.stride, c.padding}, c.residual ? &res : nullptr);
  ASSERT_EQ(out.shape(), os);
  auto got = to_host(ts.s, out);
  r.bias = c.bias ? &biasv : nullptr, r.residual = c.residual ? &resv : nullptr;
  auto idx = sample_indices(int64_t(got.size()), 3000, 9);
  std::vector<double> want(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) want[i] = conv2d_ref_at(r, xv, wv, idx[i]);
  EXPECT_TRUE(close_nmse_at(got, idx, want, conv_tolerance(prec), describe(c, prec)));
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2dTest, ::testing::Combine(::testing::ValuesIn(conv_cases()),
                                                                ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           const ConvCase& c = std::get<0>(info.param);
                           std::ostringstream os;
                           os << "n" << c.N << "_c" << c.C << "_" << c.H << "x" << c.W << "_o" << c.O << "_k" << c.kh
                              << "x" << c.kw << "_s" << c.stride << "_p" << c.padding << (c.bias ? "_bias" : "")
                              << (c.residual ? "_res" : "") << "_" << precision_name(std::get<1>(info.param));
                           return os.str();
                         });

void expect_op_error(const std::function<void()>& f, std::initializer_list<const char*> needles) {
  try {
    f();
    FAIL() << "expected an OpError";
  } catch (const ops::OpError& e) {
    for (const char* n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

TEST(Conv2dErrors, BadShapesNameOperands) {
  TestStream ts(precisions()[0]);
  auto& ctx = context();
  Tensor x = Tensor::empty(ctx, {1, 4, 8, 8}, DType::F32);
  Tensor w_bad_c = Tensor::empty(ctx, {6, 3, 3, 3}, DType::F32);
  expect_op_error([&] { ops::conv2d(ts.s, x, w_bad_c, nullptr, {1, 1}); }, {"conv2d", "[1, 4, 8, 8]", "[6, 3, 3, 3]"});
  Tensor w = Tensor::empty(ctx, {6, 4, 3, 3}, DType::F32), bias = Tensor::empty(ctx, {5}, DType::F32);
  expect_op_error([&] { ops::conv2d(ts.s, x, w, &bias, {1, 1}); }, {"conv2d", "bias", "[5]"});
  Tensor res = Tensor::empty(ctx, {1, 6, 4, 4}, DType::F32);
  expect_op_error([&] { ops::conv2d(ts.s, x, w, nullptr, {1, 1}, &res); }, {"conv2d", "residual", "[1, 6, 8, 8]"});
  expect_op_error([&] { ops::conv2d(ts.s, x, w, nullptr, {0, 1}); }, {"conv2d", "stride 0"});
  Tensor x3 = Tensor::empty(ctx, {4, 8, 8}, DType::F32);
  expect_op_error([&] { ops::conv2d(ts.s, x3, w, nullptr, {1, 1}); }, {"conv2d", "[4, 8, 8]"});
  Tensor w_big = Tensor::empty(ctx, {6, 4, 11, 11}, DType::F32);
  expect_op_error([&] { ops::conv2d(ts.s, x, w_big, nullptr, {1, 1}); }, {"conv2d", "kernel larger"});
}

}  // namespace
}  // namespace vkdream::test
