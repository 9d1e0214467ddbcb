// ComfyUI's bislerp resize (comfy.utils.bislerp) against the double-precision CPU reference in
// reference/bislerp_ref.h: up- and down-scaling, non-square, batches, and the slerp's special cases
// (parallel, opposite and zero channel vectors) pinned with known values.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "ops/resize_bislerp.h"
#include "reference/bislerp_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

// Normalized MSE bounds. Measured worst on lavapipe: f32 2.5e-13 (the 64x64 -> 96x96 latent; the others
// under 1e-13), f16 and f16a 4.2e-8 (the output's rounding to f16; the op computes in f32).
double bislerp_tolerance(const Precision& p) { return p.dtype == DType::F32 ? 1e-12 : 1e-7; }

struct BislerpCase {
  Shape in;  // N, C, H, W
  int64_t out_h, out_w;
};

std::vector<BislerpCase> bislerp_cases() {
  return {
      {{1, 4, 5, 7}, 11, 13},    // odd upscale, non-square
      {{2, 4, 13, 17}, 5, 6},    // odd downscale, batch 2
      {{1, 4, 8, 8}, 12, 12},    // a latent by 1.5
      {{1, 4, 6, 8}, 6, 8},      // same size
      {{1, 4, 1, 1}, 3, 4},      // from one pixel
      {{2, 4, 6, 5}, 9, 3},      // up in H, down in W
      {{1, 3, 7, 9}, 4, 10},     // 3 channels
      {{1, 1, 4, 4}, 7, 7},      // 1 channel: every vector is parallel or opposite
      {{1, 4, 64, 64}, 96, 96},  // SD1.5 latent 512 -> 768
  };
}

class BislerpTest : public ::testing::TestWithParam<std::tuple<BislerpCase, Precision>> {};

TEST_P(BislerpTest, MatchesComfyUI) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  auto xv = random_normal(size_t(shape_numel(c.in)), 31, 1.0f, prec.dtype == DType::F16);
  Tensor x = from_host(ts.s, c.in, prec.dtype, xv);
  Tensor out = ops::resize_bislerp(ts.s, x, c.out_h, c.out_w);
  std::ostringstream params;
  params << "bislerp x=" << shape_str(c.in) << " out=" << c.out_h << "x" << c.out_w << " " << prec.name;
  ASSERT_EQ(out.shape(), (Shape{c.in[0], c.in[1], c.out_h, c.out_w})) << params.str();
  ASSERT_EQ(out.dtype(), prec.dtype) << params.str();
  std::vector<double> xd(xv.begin(), xv.end());
  auto want = ref_bislerp(xd, c.in[0], c.in[1], c.in[2], c.in[3], c.out_h, c.out_w);
  EXPECT_TRUE(close_nmse(to_host(ts.s, out), want, bislerp_tolerance(prec), params.str()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, BislerpTest,
                         ::testing::Combine(::testing::ValuesIn(bislerp_cases()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "case" + std::to_string(info.index / precisions().size()) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

// A 1x2 row [b1, b2] of 2-channel vectors widened to 4: generate_bilinear_data gives (c1, c2, r) =
// (0, 1, 0), (0, 1, 0.25), (0, 1, 0.75), (1, 1, 0) (past the last source pixel both taps are b2).
std::vector<float> widen_row(const std::vector<float>& b1, const std::vector<float>& b2) {
  TestStream ts(precisions()[0]);
  // NCHW [1, 2, 1, 2]: channel-major.
  Tensor x = from_host(ts.s, {1, 2, 1, 2}, DType::F32, {b1[0], b2[0], b1[1], b2[1]});
  return to_host(ts.s, ops::resize_bislerp(ts.s, x, 1, 4));
}

TEST(BislerpSemantics, ParallelVectorsKeepTheFirst) {
  // Same direction, different lengths: ComfyUI returns b1 itself, not a lerp of the magnitudes.
  auto got = widen_row({3, 4}, {6, 8});
  EXPECT_EQ(got, (std::vector<float>{3, 3, 3, 6, 4, 4, 4, 8}));
}

TEST(BislerpSemantics, OppositeVectorsLerp) {
  auto got = widen_row({3, 4}, {-3, -4});
  // r = 0: b1; r = 0.25: 0.75 b1 + 0.25 b2 = 0.5 b1; r = 0.75: -0.5 b1; past the end: b2 (with itself).
  std::vector<float> want{3, 1.5f, -1.5f, -3, 4, 2, -2, -4};
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6f) << i;
}

TEST(BislerpSemantics, OrthogonalAndZeroVectors) {
  // Orthogonal unit-length pair: omega = pi/2, the slerp keeps unit length.
  auto got = widen_row({1, 0}, {0, 2});
  auto want = ref_bislerp({1, 0, 0, 2}, 1, 2, 1, 2, 1, 4);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;
  EXPECT_NEAR(got[1], std::cos(0.25 * M_PI / 2) * 1.25, 1e-6);  // r = 0.25: length 1.25 at angle pi/8
  // A zero vector normalizes to 0 (dot 0): sin(r pi/2) * b2/|b2| * (r |b2|).
  got = widen_row({0, 0}, {0, 2});
  want = ref_bislerp({0, 0, 0, 2}, 1, 2, 1, 2, 1, 4);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;
  EXPECT_NEAR(got[5], std::sin(0.25 * M_PI / 2) * 0.5, 1e-6);
  // Both zero: zero.
  for (float v : widen_row({0, 0}, {0, 0})) EXPECT_EQ(v, 0.0f);
}

// Parallel and opposite neighbours inside a larger tensor, both passes: against the reference.
TEST(BislerpSemantics, SpecialVectorsInBothPasses) {
  TestStream ts(precisions()[0]);
  const Shape in{2, 4, 3, 4};
  auto xv = random_normal(size_t(shape_numel(in)), 41);
  auto at = [&](int64_t n, int64_t c, int64_t y, int64_t x) -> float& {
    return xv[size_t(((n * 4 + c) * 3 + y) * 4 + x)];
  };
  for (int64_t c = 0; c < 4; ++c) {
    at(0, c, 0, 1) = 2.5f * at(0, c, 0, 0);   // parallel along the width
    at(0, c, 1, 2) = -0.5f * at(0, c, 1, 1);  // opposite along the width
    at(1, c, 1, 3) = 3.0f * at(1, c, 0, 3);   // parallel along the height (column 3 is a source column)
    at(1, c, 2, 0) = 0.0f;                    // a zero vector
  }
  Tensor x = from_host(ts.s, in, DType::F32, xv);
  std::vector<double> xd(xv.begin(), xv.end());
  for (auto [h, w] : {std::pair<int64_t, int64_t>{7, 9}, {2, 3}, {5, 4}}) {
    auto got = to_host(ts.s, ops::resize_bislerp(ts.s, x, h, w));
    auto want = ref_bislerp(xd, 2, 4, 3, 4, h, w);
    // Measured 1.2e-14 on lavapipe.
    EXPECT_TRUE(close_nmse(got, want, 1e-13, "special vectors to " + std::to_string(h) + "x" + std::to_string(w)));
  }
}

// generate_bilinear_data's f32 quirks: the same size keeps every index (c2 = c1 + 1 but the last), upscaling
// clamps the last source index.
TEST(BislerpSemantics, AxisData) {
  auto same = ops::bislerp_axis(4, 4);
  EXPECT_EQ(same.c1, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(same.c2, (std::vector<int32_t>{1, 2, 3, 3}));
  EXPECT_EQ(same.ratio, (std::vector<float>{0, 0, 0, 0}));
  auto up = ops::bislerp_axis(2, 4);
  EXPECT_EQ(up.c1, (std::vector<int32_t>{0, 0, 0, 1}));
  EXPECT_EQ(up.c2, (std::vector<int32_t>{1, 1, 1, 1}));
  EXPECT_EQ(up.ratio, (std::vector<float>{0, 0.25f, 0.75f, 0}));
  for (auto [in, out] : {std::pair<int64_t, int64_t>{64, 96}, {13, 5}, {3, 37}, {96, 64}}) {
    auto a = ops::bislerp_axis(in, out);
    auto r = bislerp_ref_detail::bilinear_data(in, out);
    for (int64_t i = 0; i < out; ++i) {
      EXPECT_EQ(a.c1[size_t(i)], r.c1[size_t(i)]) << in << "->" << out << " @" << i;
      EXPECT_EQ(a.c2[size_t(i)], r.c2[size_t(i)]) << in << "->" << out << " @" << i;
      EXPECT_EQ(double(a.ratio[size_t(i)]), r.ratio[size_t(i)]) << in << "->" << out << " @" << i;
    }
  }
}

}  // namespace
}  // namespace vkdream::test
