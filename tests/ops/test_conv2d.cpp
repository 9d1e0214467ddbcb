// conv2d against the double-precision CPU reference (tests/reference/gemm_ref.h).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <sstream>

#include "ops/conv2d.h"
#include "ops/matmul.h"
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
      // Winograd in f32 (3x3, stride 1, C % 8 == 0, 128+ output pixels). F(4x4, 3x3) where the images hold 32+
      // tiles of 4x4: odd sizes (partial tiles), padding 0 and 2, several images, the smallest C; rows of outputs
      // stored one by one, 4-wide (4 | Wo) and 8-wide (8 | Wo: two tiles per invocation), odd Ho
      {3, 16, 19, 23, 24, 3, 3, 1, 1, true, true, false},
      {1, 8, 33, 40, 10, 3, 3, 1, 0, true, false, false},
      {2, 24, 20, 17, 9, 3, 3, 1, 2, false, true, false},
      {2, 16, 21, 12, 16, 3, 3, 1, 1, true, true, false},
      {2, 16, 21, 16, 12, 3, 3, 1, 1, true, true, false},
      // F(2x2, 3x3) below 32 tiles of 4x4: odd sizes, two tiles per output invocation (4 | Wo), four (8 | Wo)
      {2, 16, 9, 11, 24, 3, 3, 1, 1, true, true, false},
      {2, 16, 8, 12, 16, 3, 3, 1, 1, true, true, false},
      {2, 16, 7, 16, 12, 3, 3, 1, 1, true, true, false},
      {1, 8, 14, 24, 8, 3, 3, 1, 1, false, false, false},
      // several images of fewer than 32 pixels share the GEMM's columns (texel path): scalar (P = 15), 4-wide
      // (P = 12) and 8-wide (P = 16) epilogues, partial row and column blocks
      {3, 16, 5, 3, 40, 3, 3, 1, 1, true, true, false},
      {3, 8, 2, 6, 12, 1, 1, 1, 0, true, false, false},
      {2, 8, 4, 4, 24, 3, 3, 1, 1, false, true, false},
      // SD1.5 shapes: conv_in, conv_out, ResBlock 1x1 skip and 3x3 (fused bias + residual), downsample
      {1, 4, 64, 64, 320, 3, 3, 1, 1, true, false, false},
      {1, 320, 32, 32, 4, 3, 3, 1, 1, true, false, false},
      {2, 320, 16, 16, 640, 1, 1, 1, 0, true, true, false},
      {1, 640, 8, 8, 640, 3, 3, 1, 1, true, true, true},
      {2, 320, 32, 32, 320, 3, 3, 1, 1, true, true, true},
      {1, 320, 32, 32, 320, 3, 3, 2, 1, true, false, true},
      {1, 1280, 4, 4, 1280, 3, 3, 1, 1, true, true, true},
      {2, 1280, 4, 4, 1280, 3, 3, 1, 1, true, true, true},
      {2, 1280, 8, 8, 1280, 3, 3, 2, 1, true, false, true},
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

// Model weights (tensors of the weights pool, written once) keep their Winograd transform: made at the first call,
// reused by the next (the same tensors), freed with the weight, counted against the context's budget while they
// live; results match the reference each time. Weights elsewhere (the activation arena), or past the budget, are
// transformed at every call and keep nothing. 12x12 images take F(2x2, 3x3), 16x16 ones F(4x4, 3x3).
void check_kept_winograd_weights(vk::Context& ctx, int64_t size) {
  SCOPED_TRACE("images " + std::to_string(size) + "x" + std::to_string(size) + ", budget " +
               std::to_string(ctx.transformed_weights_budget()));
  vk::Stream s(ctx);
  const uint64_t kept_before = ctx.transformed_weights_bytes();
  Conv2dRefArgs r;
  r.N = 2, r.C = 16, r.H = size, r.W = size, r.O = 24, r.kh = 3, r.kw = 3, r.stride = 1, r.padding = 1;
  Shape xs{r.N, r.C, r.H, r.W}, ws{r.O, r.C, 3, 3};
  auto wv = random_normal(size_t(shape_numel(ws)), 42, 0.1f, false);
  Tensor w = Tensor::empty(ctx, ws, DType::F32, &ctx.weights());
  upload(s, w, wv);
  s.submit();
  Tensor w_arena = from_host(s, ws, DType::F32, wv);
  // Winograd applies on the texel-GEMM path (lavapipe); elsewhere nothing is kept.
  const bool winograd = ops::detail::texel_gemm_available(s, DType::F32) && ctx.caps().storage_texel_r32f &&
                        ctx.transformed_weights_budget() >= uint64_t(36 * 24 * 16) * 4;
  auto run = [&](const Tensor& weight, uint64_t seed) {
    auto xv = random_normal(size_t(shape_numel(xs)), seed, 1.0f, false);
    Tensor x = from_host(s, xs, DType::F32, xv);
    auto got = to_host(s, ops::conv2d(s, x, weight, nullptr, {1, 1}));
    auto idx = sample_indices(int64_t(got.size()), 2000, seed);
    std::vector<double> want(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) want[i] = conv2d_ref_at(r, xv, wv, idx[i]);
    EXPECT_TRUE(close_nmse_at(got, idx, want, 1e-11, "conv2d with kept Winograd weights, seed " + std::to_string(seed)));
  };
  auto kept = [&]() -> std::shared_ptr<void> {
    std::lock_guard<std::mutex> lock(w.allocation()->derived_mu);
    EXPECT_EQ(w.allocation()->derived.size(), winograd ? 1u : 0u);
    return w.allocation()->derived.empty() ? nullptr : w.allocation()->derived.begin()->second;
  };
  run(w, 1);
  std::shared_ptr<void> first = kept();
  run(w, 2);
  std::shared_ptr<void> second = kept();
  EXPECT_EQ(first, second);  // reused, not made again
  run(w_arena, 3);
  EXPECT_TRUE(w_arena.allocation()->derived.empty());
  if (!winograd) {
    EXPECT_EQ(ctx.transformed_weights_bytes(), kept_before);
    return;
  }
  EXPECT_GE(ctx.transformed_weights_bytes() - kept_before, uint64_t(24 * 16 * 16) * 4);
  const uint64_t used = ctx.weights().stats().used_bytes;
  std::weak_ptr<void> transformed = first;
  first.reset(), second.reset();
  EXPECT_FALSE(transformed.expired());
  w = Tensor();
  EXPECT_TRUE(transformed.expired());  // freed with the weight
  // ... and its tensors: the weight's 24 x 16 x 9 values and at least 24 x 16 x 16 transformed ones went back.
  EXPECT_GE(used - ctx.weights().stats().used_bytes, uint64_t(16 * 24 * 25) * 4);
  EXPECT_EQ(ctx.transformed_weights_bytes(), kept_before);  // the budget's share went back too
}

TEST(Conv2dWinogradWeights, KeptWithModelWeightsAndFreedWithThem) {
  check_kept_winograd_weights(context(), 12);
  check_kept_winograd_weights(context(), 16);
}

TEST(Conv2dWinogradWeights, NothingKeptPastTheBudget) {
  vk::ContextOptions opts;
  opts.transformed_weights_budget = 1000;  // bytes: less than one transform
  vk::Context small(opts);
  check_kept_winograd_weights(small, 12);
  check_kept_winograd_weights(small, 16);
  opts.transformed_weights_budget = 0;  // off
  vk::Context off(opts);
  check_kept_winograd_weights(off, 16);
}

void expect_op_error(const std::function<void()>& f, std::initializer_list<const char*> needles);

// conv1x1_tokens against the reference conv of the tokens permuted to NCHW: the texel GEMM per image (C % 8 == 0),
// and C = 12, which takes the permute + conv2d fallback; with and without bias and residual.
TEST(Conv1x1Tokens, MatchesTheConvOfThePermutedTokens) {
  struct Case {
    int64_t N, H, W, C, O;
    bool bias, residual;
  };
  for (const Case& c : {Case{2, 4, 6, 16, 24, true, true}, Case{1, 3, 5, 12, 7, true, false}, Case{3, 8, 8, 32, 40, false, true}}) {
    for (const Precision& prec : precisions()) {
      TestStream ts(prec);
      const bool f16 = prec.dtype == DType::F16;
      const int64_t P = c.H * c.W;
      auto tv = random_normal(size_t(c.N * P * c.C), 51, 1.0f, f16);
      auto wv = random_normal(size_t(c.O * c.C), 52, 0.1f, f16);
      auto biasv = random_normal(size_t(c.O), 53, 1.0f, f16);
      auto resv = random_normal(size_t(c.N * c.O * P), 54, 1.0f, f16);
      std::vector<float> xv(tv.size());  // NCHW
      for (int64_t n = 0; n < c.N; ++n)
        for (int64_t p = 0; p < P; ++p)
          for (int64_t ch = 0; ch < c.C; ++ch) xv[size_t((n * c.C + ch) * P + p)] = tv[size_t((n * P + p) * c.C + ch)];
      Tensor t = from_host(ts.s, {c.N, P, c.C}, prec.dtype, tv), w = from_host(ts.s, {c.O, c.C, 1, 1}, prec.dtype, wv);
      Tensor bias = from_host(ts.s, {c.O}, prec.dtype, biasv), res = from_host(ts.s, {c.N, c.O, c.H, c.W}, prec.dtype, resv);
      Tensor out = ops::conv1x1_tokens(ts.s, t, c.H, c.W, w, c.bias ? &bias : nullptr, c.residual ? &res : nullptr);
      ASSERT_EQ(out.shape(), (Shape{c.N, c.O, c.H, c.W}));
      auto got = to_host(ts.s, out);
      Conv2dRefArgs r;
      r.N = c.N, r.C = c.C, r.H = c.H, r.W = c.W, r.O = c.O, r.kh = 1, r.kw = 1, r.stride = 1, r.padding = 0;
      r.bias = c.bias ? &biasv : nullptr, r.residual = c.residual ? &resv : nullptr;
      std::vector<int64_t> idx(got.size());
      std::vector<double> want(got.size());
      for (size_t i = 0; i < got.size(); ++i) idx[i] = int64_t(i), want[i] = conv2d_ref_at(r, xv, wv, int64_t(i));
      EXPECT_TRUE(close_nmse_at(got, idx, want, conv_tolerance(prec),
                                "conv1x1_tokens C=" + std::to_string(c.C) + " " + prec.name));
    }
  }
  TestStream ts(precisions()[0]);
  Tensor t = Tensor::empty(context(), {2, 12, 8}, DType::F32), w = Tensor::empty(context(), {4, 8, 1, 1}, DType::F32);
  expect_op_error([&] { ops::conv1x1_tokens(ts.s, t, 3, 5, w, nullptr); }, {"conv1x1_tokens", "[N, H*W, C]"});
  Tensor w3 = Tensor::empty(context(), {4, 8, 3, 3}, DType::F32);
  expect_op_error([&] { ops::conv1x1_tokens(ts.s, t, 3, 4, w3, nullptr); }, {"conv1x1_tokens", "[4, 8, 3, 3]"});
}

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
