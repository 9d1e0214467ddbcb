// Resizes (torch interpolate semantics, align_corners=False) and the UNet's nearest 2x upsample
// against naive CPU references that pick source pixels with PyTorch's f32 index math.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "ops/op_util.h"
#include "ops/resize.h"
#include "reference/layout_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

using ops::ResizeMode;

// Measured worst normalized MSE over these cases (lavapipe): f32 3.9e-13 (bicubic: PyTorch's f32
// cubic weights cancel near |d| = 1..2; bilinear 6e-15, area 5e-14), f16 and f16a 9.9e-8 (the
// output's rounding to f16; all modes compute in f32). Nearest modes are exact.
double resize_tolerance(const Precision& p) {
  if (p.dtype == DType::F32) return 4e-12;
  return 1e-6;
}

struct ResizeCase {
  Shape in;
  int64_t out_h, out_w;
  bool large;
  int64_t samples;  // compare this many sampled outputs (0: all)
};

const ResizeMode kModes[] = {ResizeMode::kNearest, ResizeMode::kNearestExact, ResizeMode::kBilinear,
                             ResizeMode::kBicubic, ResizeMode::kArea};

std::vector<std::tuple<ResizeCase, ResizeMode>> resize_cases() {
  std::vector<ResizeCase> shapes{
      {{1, 2, 5, 7}, 11, 13, false, 0},     // odd upscale
      {{2, 3, 13, 17}, 5, 6, false, 0},     // odd downscale
      {{1, 1, 9, 9}, 4, 4, false, 0},       // non-integer down ratio
      {{1, 2, 1, 1}, 3, 4, false, 0},       // from one pixel
      {{1, 2, 6, 5}, 1, 1, false, 0},       // to one pixel
      {{1, 1, 4, 6}, 4, 6, false, 0},       // same size
      {{1, 3, 8, 5}, 3, 11, false, 0},      // down in H, up in W
      {{2, 1, 7, 3}, 21, 9, false, 0},      // exact 3x
      {{1, 4, 64, 64}, 96, 96, false, 0},   // SD1.5 latent upscale 512 -> 768
      {{1, 4, 64, 64}, 128, 128, true, 0},  // latent 2x
      {{1, 3, 512, 512}, 768, 768, true, 4096},  // image upscale, sampled
  };
  std::vector<std::tuple<ResizeCase, ResizeMode>> out;
  for (auto& c : shapes) {
    if (quick() && c.large) continue;
    for (auto m : kModes) out.push_back({c, m});
  }
  return out;
}

class ResizeTest : public ::testing::TestWithParam<std::tuple<std::tuple<ResizeCase, ResizeMode>, Precision>> {};

TEST_P(ResizeTest, MatchesTorch) {
  auto [cm, prec] = GetParam();
  auto [c, mode] = cm;
  TestStream ts(prec);
  auto xv = random_normal(size_t(shape_numel(c.in)), 21, 1.0f, prec.dtype == DType::F16);
  Tensor x = from_host(ts.s, c.in, prec.dtype, xv);
  Tensor out = ops::resize(ts.s, x, c.out_h, c.out_w, mode);
  std::ostringstream params;
  params << "resize mode=" << ops::resize_mode_name(mode) << " x=" << shape_str(c.in) << " out=" << c.out_h << "x"
         << c.out_w << " " << prec.name;
  ASSERT_EQ(out.shape(), (Shape{c.in[0], c.in[1], c.out_h, c.out_w})) << params.str();
  auto got = to_host(ts.s, out);
  auto idx = sample_indices(out.numel(), c.samples ? c.samples : out.numel(), 22);
  std::vector<double> want(idx.size());
  for (size_t k = 0; k < idx.size(); ++k) want[k] = ref_resize_at(xv, c.in, c.out_h, c.out_w, mode, idx[k]);
  bool exact = mode == ResizeMode::kNearest || mode == ResizeMode::kNearestExact;
  EXPECT_TRUE(close_nmse_at(got, idx, want, exact ? 0.0 : resize_tolerance(prec), params.str()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, ResizeTest,
                         ::testing::Combine(::testing::ValuesIn(resize_cases()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           auto mode = std::get<1>(std::get<0>(info.param));
                           std::string m = ops::resize_mode_name(mode);
                           for (auto& ch : m)
                             if (ch == '-') ch = '_';
                           return "case" + std::to_string(info.index / (precisions().size() * std::size(kModes))) +
                                  "_" + m + "_" + precision_name(std::get<1>(info.param));
                         });

// Index math pinned on cases where naive formulas differ from PyTorch's.
TEST(ResizeSemantics, KnownValues) {
  TestStream ts(precisions()[0]);
  // 1x1x1x4 row [0, 1, 2, 3] -> width 3 and 8.
  Tensor x = from_host(ts.s, {1, 1, 1, 4}, DType::F32, {0, 1, 2, 3});
  // nearest: floor(dst * 4/3) -> 0, 1, 2; nearest-exact: floor((dst + 0.5) * 4/3) -> 0, 2, 3.
  EXPECT_EQ(to_host(ts.s, ops::resize(ts.s, x, 1, 3, ResizeMode::kNearest)), (std::vector<float>{0, 1, 2}));
  EXPECT_EQ(to_host(ts.s, ops::resize(ts.s, x, 1, 3, ResizeMode::kNearestExact)), (std::vector<float>{0, 2, 3}));
  // bilinear 4 -> 8: src = (dst + 0.5) / 2 - 0.5 clamped at 0: 0, 0.25, 0.75, ..., 3 (clamped right tap).
  EXPECT_EQ(to_host(ts.s, ops::resize(ts.s, x, 1, 8, ResizeMode::kBilinear)),
            (std::vector<float>{0, 0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 3}));
  // area 4 -> 3: windows [0,2) [1,3) [2,4) -> 0.5, 1.5, 2.5.
  EXPECT_EQ(to_host(ts.s, ops::resize(ts.s, x, 1, 3, ResizeMode::kArea)), (std::vector<float>{0.5f, 1.5f, 2.5f}));
  // bicubic keeps a linear ramp linear away from the borders and reproduces constants.
  Tensor c = from_host(ts.s, {1, 1, 1, 3}, DType::F32, {2, 2, 2});
  for (float v : to_host(ts.s, ops::resize(ts.s, c, 1, 7, ResizeMode::kBicubic))) EXPECT_NEAR(v, 2.0f, 1e-6f);
}

// ---- upsample_nearest2x ----
struct UpsampleCase {
  Shape in;
  bool large;
};

std::vector<UpsampleCase> upsample_cases() {
  std::vector<UpsampleCase> all{{{1, 1, 3, 5}, false}, {{2, 3, 1, 1}, false}, {{1, 2, 7, 2}, false},
                                {{2, 1280, 8, 8}, false}, {{2, 640, 32, 32}, true}};
  std::vector<UpsampleCase> out;
  for (auto& c : all)
    if (!(quick() && c.large)) out.push_back(c);
  return out;
}

class UpsampleTest : public ::testing::TestWithParam<std::tuple<UpsampleCase, Precision>> {};

TEST_P(UpsampleTest, RepeatsEachValue2x2) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  auto xv = random_normal(size_t(shape_numel(c.in)), 23, 1.0f, prec.dtype == DType::F16);
  Tensor x = from_host(ts.s, c.in, prec.dtype, xv);
  Tensor out = ops::upsample_nearest2x(ts.s, x);
  std::string params = "upsample_nearest2x x=" + shape_str(c.in) + " " + prec.name;
  ASSERT_EQ(out.shape(), (Shape{c.in[0], c.in[1], 2 * c.in[2], 2 * c.in[3]})) << params;
  EXPECT_TRUE(close_nmse(to_host(ts.s, out), ref_upsample_nearest2x(xv, c.in), 0.0, params));
}

INSTANTIATE_TEST_SUITE_P(Shapes, UpsampleTest,
                         ::testing::Combine(::testing::ValuesIn(upsample_cases()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "case" + std::to_string(info.index / precisions().size()) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

TEST(ResizeErrors, BadArgumentsNameOpAndShapes) {
  TestStream ts(precisions()[0]);
  Tensor x3 = Tensor::empty(context(), {3, 4, 5}, DType::F32);
  Tensor x4 = Tensor::empty(context(), {1, 3, 4, 5}, DType::F32);
  auto expect = [&](auto&& f, std::initializer_list<const char*> mentions) {
    try {
      f();
      ADD_FAILURE() << "expected an OpError";
    } catch (const ops::OpError& e) {
      for (auto* m : mentions) EXPECT_NE(std::string(e.what()).find(m), std::string::npos) << e.what();
    }
  };
  expect([&] { ops::resize(ts.s, x3, 8, 8, ResizeMode::kBilinear); }, {"resize", "[3, 4, 5]", "NCHW"});
  expect([&] { ops::resize(ts.s, x4, 0, 8, ResizeMode::kBicubic); }, {"resize", "[1, 3, 4, 5]", "0x8"});
  expect([&] { ops::resize(ts.s, x4, 8, 8, ResizeMode(9)); }, {"resize", "mode"});
  expect([&] { ops::upsample_nearest2x(ts.s, x3); }, {"upsample_nearest2x", "[3, 4, 5]"});
  EXPECT_EQ(ts.s.pending(), 0u);
}

}  // namespace
}  // namespace vkdream::test
