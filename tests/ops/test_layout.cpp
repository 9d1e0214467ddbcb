// Layout ops (concat, permute, slice, copy) against naive CPU references. They only move
// values, so every precision must match exactly (tolerance 0).
#include <gtest/gtest.h>

#include <sstream>

#include "ops/layout.h"
#include "ops/op_util.h"
#include "reference/layout_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

constexpr double kExact = 0.0;  // copies are bit-exact in every precision

std::string perm_str(const std::vector<int>& p) {
  std::string s = "{";
  for (size_t i = 0; i < p.size(); ++i) s += (i ? "," : "") + std::to_string(p[i]);
  return s + "}";
}

std::string case_name(size_t index) { return "case" + std::to_string(index / precisions().size()); }

// ---- concat ----
struct ConcatCase {
  std::vector<Shape> parts;
  int dim;
  bool large;
};

std::vector<ConcatCase> concat_cases() {
  std::vector<ConcatCase> all{
      {{{3, 5}, {3, 2}}, 1, false},
      {{{2, 3, 4}, {1, 3, 4}, {4, 3, 4}}, 0, false},
      {{{2, 3, 5}, {2, 3, 1}, {2, 3, 3}}, -1, false},
      {{{1, 7}, {1, 9}}, 1, false},                      // outer 1: plain buffer copies
      {{{3, 1, 5, 2}, {3, 4, 5, 2}}, 1, false},         // few runs: one buffer copy each
      {{{37, 3}, {37, 5}, {37, 1}}, 1, false},          // many short runs: the copy_rows shader
      {{{2, 40, 7, 3}, {2, 40, 2, 3}}, -2, false},
      {{{2, 1280, 8, 8}, {2, 1280, 8, 8}}, 1, false},    // SD1.5 UNet skip concat, lowest level
      {{{2, 640, 32, 32}, {2, 320, 32, 32}}, 1, true},   // SD1.5 output_blocks.9 at 256x256 latents
  };
  std::vector<ConcatCase> out;
  for (auto& c : all)
    if (!(quick() && c.large)) out.push_back(c);
  return out;
}

class ConcatTest : public ::testing::TestWithParam<std::tuple<ConcatCase, Precision>> {};

TEST_P(ConcatTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  bool f16 = prec.dtype == DType::F16;
  std::vector<std::vector<float>> vals;
  std::vector<Tensor> parts;
  std::ostringstream params;
  params << "concat dim=" << c.dim << " parts=";
  for (size_t i = 0; i < c.parts.size(); ++i) {
    vals.push_back(random_normal(size_t(shape_numel(c.parts[i])), uint32_t(10 + i), 1.0f, f16));
    parts.push_back(from_host(ts.s, c.parts[i], prec.dtype, vals.back()));
    params << shape_str(c.parts[i]);
  }
  params << " " << prec.name;
  Tensor out = ops::concat(ts.s, parts, c.dim);
  auto got = to_host(ts.s, out);
  EXPECT_TRUE(close_nmse(got, ref_concat(vals, c.parts, c.dim), kExact, params.str()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, ConcatTest,
                         ::testing::Combine(::testing::ValuesIn(concat_cases()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) { return case_name(info.index) + "_" + precision_name(std::get<1>(info.param)); });

// ---- permute ----
struct PermuteCase {
  Shape shape;
  std::vector<int> perm;
  bool large;
};

std::vector<PermuteCase> permute_cases() {
  std::vector<PermuteCase> all{
      {{2, 3, 4, 5}, {0, 2, 3, 1}, false},  // NCHW -> NHWC: tiled transpose
      {{2, 3, 4, 5}, {0, 3, 1, 2}, false},  // NHWC -> NCHW
      {{2, 3, 4, 5}, {3, 2, 1, 0}, false},  // full reversal: gather
      {{2, 3, 4, 5}, {1, 0, 2, 3}, false},
      {{2, 3, 4, 5}, {0, 2, 1, 3}, false},  // attention head split
      {{5, 7}, {1, 0}, false},
      {{33, 65}, {1, 0}, false},            // partial transpose tiles
      {{3, 1, 4, 5}, {2, 1, 0, 3}, false},  // a size-1 axis
      {{1, 1, 1, 6}, {3, 2, 0, 1}, false},  // collapses to a copy
      {{7}, {0}, false},
      // On a CPU device R % 8 == 0 and C % 4 == 0 take transpose_texel.comp (8 x 4 blocks, 8-wide stores)
      {{3, 40, 24}, {0, 2, 1}, false},
      {{16, 80, 40}, {0, 2, 1}, false},  // attention's V^T (80 padded text tokens, 40 channels per head)
      {{2, 8, 40, 1024}, {0, 3, 1, 2}, false},  // attention's transposed output [B, H, D, L] -> [B, L, H, D]
      {{2, 12, 8}, {0, 2, 1}, false},  // R % 8 != 0: the tiled transpose
      {{2, 16, 4, 40}, {0, 2, 1, 3}, false},  // innermost dim % 8 == 0: 8 values per invocation on a CPU device
      {{2, 320, 64, 64}, {0, 2, 3, 1}, false},  // SD1.5 latent NCHW -> NHWC before proj_in
      {{2, 64, 64, 320}, {0, 3, 1, 2}, true},   // and back
      {{2, 4096, 8, 40}, {0, 2, 1, 3}, true},   // SD1.5 attention heads at 64x64
  };
  std::vector<PermuteCase> out;
  for (auto& c : all)
    if (!(quick() && c.large)) out.push_back(c);
  return out;
}

class PermuteTest : public ::testing::TestWithParam<std::tuple<PermuteCase, Precision>> {};

TEST_P(PermuteTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  auto xv = random_normal(size_t(shape_numel(c.shape)), 3, 1.0f, prec.dtype == DType::F16);
  Tensor x = from_host(ts.s, c.shape, prec.dtype, xv);
  Tensor out = ops::permute(ts.s, x, c.perm);
  Shape want_shape;
  for (int p : c.perm) want_shape.push_back(c.shape[size_t(p)]);
  std::string params = "permute x=" + shape_str(c.shape) + " perm=" + perm_str(c.perm) + " " + prec.name;
  ASSERT_EQ(out.shape(), want_shape) << params;
  EXPECT_TRUE(close_nmse(to_host(ts.s, out), ref_permute(xv, c.shape, c.perm), kExact, params));
}

INSTANTIATE_TEST_SUITE_P(Shapes, PermuteTest,
                         ::testing::Combine(::testing::ValuesIn(permute_cases()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) { return case_name(info.index) + "_" + precision_name(std::get<1>(info.param)); });

// ---- slice ----
struct SliceCase {
  Shape shape;
  int dim;
  int64_t begin, end;
  bool large;
};

std::vector<SliceCase> slice_cases() {
  std::vector<SliceCase> all{
      {{5, 6}, 0, 1, 4, false},
      {{5, 6}, 1, 2, 5, false},
      {{2, 3, 4}, -1, 0, 1, false},
      {{2, 3, 4}, 1, 3, 3, false},  // empty
      {{4, 8, 3}, 1, 0, 8, false},  // everything
      {{3, 7, 5}, 2, 4, 5, false},
      {{41, 9, 3}, 1, 2, 7, false},  // many short runs: the copy_rows shader
      {{2, 256, 10240}, -1, 5120, 10240, true},  // SD1.5 GEGLU gate half at 16x16
      {{2, 8, 2560}, 2, 0, 1280, false},
  };
  std::vector<SliceCase> out;
  for (auto& c : all)
    if (!(quick() && c.large)) out.push_back(c);
  return out;
}

class SliceTest : public ::testing::TestWithParam<std::tuple<SliceCase, Precision>> {};

TEST_P(SliceTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  auto xv = random_normal(size_t(shape_numel(c.shape)), 4, 1.0f, prec.dtype == DType::F16);
  Tensor x = from_host(ts.s, c.shape, prec.dtype, xv);
  Tensor out = ops::slice(ts.s, x, c.dim, c.begin, c.end);
  std::ostringstream params;
  params << "slice x=" << shape_str(c.shape) << " dim=" << c.dim << " [" << c.begin << ", " << c.end << ") "
         << prec.name;
  EXPECT_TRUE(close_nmse(to_host(ts.s, out), ref_slice(xv, c.shape, c.dim, c.begin, c.end), kExact, params.str()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SliceTest,
                         ::testing::Combine(::testing::ValuesIn(slice_cases()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) { return case_name(info.index) + "_" + precision_name(std::get<1>(info.param)); });

// ---- copy ----
class CopyTest : public ::testing::TestWithParam<std::tuple<Shape, Precision>> {};

TEST_P(CopyTest, MatchesInput) {
  auto [shape, prec] = GetParam();
  TestStream ts(prec);
  auto xv = random_normal(size_t(shape_numel(shape)), 5, 1.0f, prec.dtype == DType::F16);
  Tensor x = from_host(ts.s, shape, prec.dtype, xv);
  Tensor out = ops::copy(ts.s, x);
  EXPECT_EQ(out.shape(), shape);
  EXPECT_NE(out.ref().buffer == x.ref().buffer && out.ref().offset == x.ref().offset, true);
  std::vector<double> want(xv.begin(), xv.end());
  EXPECT_TRUE(close_nmse(to_host(ts.s, out), want, kExact, "copy x=" + shape_str(shape) + " " + prec.name));
}

INSTANTIATE_TEST_SUITE_P(Shapes, CopyTest,
                         ::testing::Combine(::testing::Values(Shape{3, 5, 7}, Shape{1}, Shape{2, 4, 64, 64}),
                                            ::testing::ValuesIn(precisions())),
                         [](const auto& info) { return case_name(info.index) + "_" + precision_name(std::get<1>(info.param)); });

// ---- errors ----
template <class F>
void expect_op_error(F&& f, std::initializer_list<const char*> mentions) {
  try {
    f();
    ADD_FAILURE() << "expected an OpError";
  } catch (const ops::OpError& e) {
    for (auto* m : mentions) EXPECT_NE(std::string(e.what()).find(m), std::string::npos) << e.what();
  }
}

TEST(LayoutErrors, BadArgumentsNameOpAndShapes) {
  TestStream ts(precisions()[0]);
  auto& ctx = context();
  Tensor a = Tensor::empty(ctx, {2, 3, 4}, DType::F32);
  Tensor b = Tensor::empty(ctx, {2, 5, 5}, DType::F32);
  Tensor h = Tensor::empty(ctx, {2, 3, 4}, DType::F16);
  expect_op_error([&] { ops::concat(ts.s, {a, b}, 1); }, {"concat", "[2, 3, 4]", "[2, 5, 5]"});
  expect_op_error([&] { ops::concat(ts.s, {a, h}, 0); }, {"concat", "f16"});
  expect_op_error([&] { ops::concat(ts.s, {a, a}, 3); }, {"concat", "dim 3"});
  expect_op_error([&] { ops::concat(ts.s, {}, 0); }, {"concat"});
  expect_op_error([&] { ops::permute(ts.s, a, {0, 1}); }, {"permute", "[2, 3, 4]"});
  expect_op_error([&] { ops::permute(ts.s, a, {0, 1, 1}); }, {"permute", "{0, 1, 1}"});
  Tensor five = Tensor::empty(ctx, {1, 1, 1, 1, 2}, DType::F32);
  expect_op_error([&] { ops::permute(ts.s, five, {0, 1, 2, 3, 4}); }, {"permute", "4 dims"});
  expect_op_error([&] { ops::slice(ts.s, a, 1, 2, 4); }, {"slice", "[2, 3, 4]", "[2, 4)"});
  expect_op_error([&] { ops::slice(ts.s, a, 1, 2, 1); }, {"slice"});
  expect_op_error([&] { ops::slice(ts.s, a, -4, 0, 1); }, {"slice", "dim -4"});
  Tensor ids = Tensor::empty(ctx, {2, 3}, DType::I32);
  expect_op_error([&] { ops::permute(ts.s, ids, {1, 0}); }, {"permute", "i32"});
  EXPECT_EQ(ts.s.pending(), 0u);  // nothing was recorded
}

}  // namespace
}  // namespace vkdream::test

namespace vkdream::test {
namespace {

TEST(Pad2d, PadsWithZeros) {
  for (const auto& prec : precisions()) {
    TestStream ts(prec);
    const int64_t n = 2, c = 3, h = 5, w = 4;
    auto v = random_normal(size_t(n * c * h * w), 5, 1.0f, prec.dtype == DType::F16);
    Tensor x = from_host(ts.s, {n, c, h, w}, prec.dtype, v);
    Tensor out = ops::pad2d(ts.s, x, 1, 2, 0, 1);
    ASSERT_EQ(out.shape(), (Shape{n, c, h + 3, w + 1}));
    auto got = to_host(ts.s, out);
    std::vector<double> want;
    for (int64_t p = 0; p < n * c; ++p)
      for (int64_t y = 0; y < h + 3; ++y)
        for (int64_t xx = 0; xx < w + 1; ++xx) {
          int64_t sy = y - 1, sx = xx;
          want.push_back(sy >= 0 && sy < h && sx < w ? v[size_t((p * h + sy) * w + sx)] : 0.0);
        }
    EXPECT_TRUE(close_nmse(got, want, 0.0, std::string("pad2d ") + prec.name));
  }
  TestStream ts(precisions()[0]);
  Tensor x = Tensor::empty(context(), {4}, DType::F32);
  EXPECT_THROW(ops::pad2d(ts.s, x, 1, 1, 1, 1), std::invalid_argument);
}

}  // namespace
}  // namespace vkdream::test
