// The Fourier filter (VkFFT) against a naive double-precision DFT of ComfyUI's Fourier_filter, and
// FreeU's per-channel ops against their CPU references.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "ops/fourier_filter.h"
#include "ops/freeu.h"
#include "reference/fourier_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

ops::FFTPlans& plans() {
  static ops::FFTPlans p(context());
  return p;
}

TEST(FourierMaskRange, FollowsPythonSlices) {
  // mask[..., n/2 - t : n/2 + t] with Python's rules for negative and out-of-range bounds.
  struct Case {
    int64_t n;
    int t;
    int64_t lo, hi;
  } cases[] = {{1, 1, 0, 1}, {2, 1, 0, 2}, {3, 1, 0, 2}, {4, 1, 1, 3}, {8, 1, 3, 5}, {9, 1, 3, 5},
               {3, 2, 2, 3}, {1, 2, 0, 1}, {5, 3, 4, 5}, {64, 1, 31, 33}, {10, 0, 5, 5}};
  for (auto c : cases) {
    auto r = ops::fourier_mask_range(c.n, c.t);
    auto py = py_slice(c.n / 2 - c.t, c.n / 2 + c.t, c.n);
    EXPECT_EQ(r.lo, c.lo) << "n=" << c.n << " t=" << c.t;
    EXPECT_EQ(r.hi, c.hi) << "n=" << c.n << " t=" << c.t;
    EXPECT_EQ(std::max(py.second - py.first, int64_t(0)), std::max(c.hi - c.lo, int64_t(0)));
  }
}

struct FilterCase {
  Shape shape;  // [B, C, H, W]
  int threshold;
  double scale;
  bool large;  // skipped in quick mode
  bool bluestein = false;  // a size with a prime factor over 13
  bool f32_only = false;   // slow on lavapipe; the other precisions add nothing to what it checks
};

class FourierFilterTest : public ::testing::TestWithParam<std::tuple<FilterCase, Precision>> {};

TEST_P(FourierFilterTest, MatchesNaiveDFT) {
  auto [c, prec] = GetParam();
  if (c.large && quick()) GTEST_SKIP() << "large shape skipped in quick mode";
  if (c.f32_only && prec.dtype != DType::F32) GTEST_SKIP() << "checked in f32 only";
  // VkFFT 1.2.26 writes null buffers into its descriptor sets while it makes a Bluestein plan (rewritten
  // before any use, see FFTPlans::refresh_descriptors); the validation layer counts those writes.
  if (c.bluestein && context().validation_enabled()) GTEST_SKIP() << "Bluestein plan under the validation layer";
  TestStream ts(prec);
  const bool f16 = prec.dtype == DType::F16;
  const int64_t planes = c.shape[0] * c.shape[1], h = c.shape[2], w = c.shape[3];
  auto xv = random_normal(size_t(shape_numel(c.shape)), 7, 1.0f, f16);
  Tensor x = from_host(ts.s, c.shape, prec.dtype, xv);
  Tensor y = ops::fourier_filter(ts.s, plans(), x, c.threshold, c.scale);
  ASSERT_EQ(y.shape(), c.shape);
  ASSERT_EQ(y.dtype(), prec.dtype);
  auto got = to_host(ts.s, y);

  // The reference on up to 24 sampled planes (all of them for small shapes).
  std::vector<int64_t> idx;
  std::vector<double> want;
  for (int64_t p : sample_indices(planes, 24, 11)) {
    auto ref = fourier_filter_plane_ref(xv.data() + p * h * w, h, w, c.threshold, c.scale);
    for (int64_t i = 0; i < h * w; ++i) {
      idx.push_back(p * h * w + i);
      want.push_back(ref[size_t(i)]);
    }
  }
  std::ostringstream params;
  params << "fourier_filter x=" << shape_str(c.shape) << " threshold=" << c.threshold << " scale=" << c.scale << " "
         << prec.name;
  // f32: VkFFT's rounding (a few ulp per butterfly stage); f16: the output rounding dominates.
  EXPECT_TRUE(close_nmse_at(got, idx, want, f16 ? 2e-6 : 1e-11, params.str()));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FourierFilterTest,
    ::testing::Combine(::testing::Values(FilterCase{{1, 1, 1, 1}, 1, 0.5, false},    // only bin 0
                                         FilterCase{{1, 2, 1, 6}, 1, 0.2, false},    // one row
                                         FilterCase{{2, 2, 5, 1}, 1, 0.2, false},    // one column
                                         FilterCase{{1, 3, 2, 2}, 1, 0.9, false},    // every bin masked
                                         FilterCase{{2, 3, 5, 5}, 1, 0.2, false},    // odd
                                         FilterCase{{1, 4, 9, 10}, 1, 0.2, false},   // odd x even (FreeU_V2 golden)
                                         FilterCase{{1, 2, 8, 8}, 1, 1.0, false},    // scale 1: identity
                                         FilterCase{{1, 2, 7, 12}, 2, 3.0, false},   // threshold 2, gain
                                         FilterCase{{1, 2, 17, 19}, 1, 0.2, false, true},  // primes: Bluestein
                                         FilterCase{{2, 3, 34, 1}, 1, 0.9, false, true},
                                         FilterCase{{2, 1280, 8, 8}, 1, 0.9, false},   // SD1.5 at 512 px
                                         FilterCase{{2, 640, 16, 16}, 1, 0.9, false},
                                         FilterCase{{2, 640, 32, 32}, 1, 0.2, true},
                                         FilterCase{{2, 320, 64, 64}, 1, 0.2, true},
                                         // 84 MB of complex planes: two chunks of one plan, the last short
                                         FilterCase{{2, 320, 128, 128}, 1, 0.2, true, false, true}),
                       ::testing::ValuesIn(precisions())),
    [](const auto& info) {
      return "case" + std::to_string(info.index / precisions().size()) + "_" +
             precision_name(std::get<1>(info.param));
    });

// Several filters of one shape in one recording share a plan and its work buffer: the stream's
// barriers must keep them apart.
TEST(FourierFilter, BackToBackCallsInOneRecording) {
  TestStream ts(precisions()[0]);
  const Shape shape{1, 3, 6, 5};
  std::vector<std::vector<float>> xs;
  std::vector<Tensor> ys;
  const double scales[] = {0.2, 0.9, 1.7};
  for (int k = 0; k < 3; ++k) {
    xs.push_back(random_normal(size_t(shape_numel(shape)), 100 + k));
    Tensor x = Tensor::empty(context(), shape, DType::F32);
    upload(ts.s, x, xs.back());
    ys.push_back(ops::fourier_filter(ts.s, plans(), x, 1, scales[k]));
  }
  EXPECT_GT(ts.s.pending(), 9u);  // nothing submitted yet
  for (int k = 0; k < 3; ++k) {
    auto got = to_host(ts.s, ys[size_t(k)]);
    auto want = fourier_filter_ref(xs[size_t(k)], 3, 6, 5, 1, scales[k]);
    EXPECT_TRUE(close_nmse(got, want, 1e-11, "back-to-back call " + std::to_string(k)));
  }
}

// One plan per (planes per chunk, H, W), reused by later calls.
TEST(FourierFilter, PlanCacheReusesPlans) {
  TestStream ts(precisions()[0]);
  ops::FFTPlans local(context());
  Tensor x = from_host(ts.s, {1, 2, 4, 6}, DType::F32, random_normal(48, 3));
  ops::fourier_filter(ts.s, local, x, 1, 0.5);
  ops::fourier_filter(ts.s, local, x, 1, 0.7);
  ts.s.submit();
  EXPECT_EQ(local.size(), 1u);
  EXPECT_EQ(local.chunk_planes(1 << 20, 64, 64), int64_t(ops::FFTPlans::kMaxWorkBytes / (64 * 64 * 8)));
}

// ---- FreeU's per-channel ops ----

struct ChannelCase {
  Shape shape;
  bool large;
};

class FreeUOpsTest : public ::testing::TestWithParam<std::tuple<ChannelCase, Precision>> {};

TEST_P(FreeUOpsTest, ChannelMeanMinMaxScale) {
  auto [c, prec] = GetParam();
  if (c.large && quick()) GTEST_SKIP() << "large shape skipped in quick mode";
  TestStream ts(prec);
  const bool f16 = prec.dtype == DType::F16;
  const int64_t B = c.shape[0], C = c.shape[1], HW = c.shape[2] * c.shape[3];
  auto hv = random_normal(size_t(shape_numel(c.shape)), 5, 1.0f, f16);
  Tensor h = from_host(ts.s, c.shape, prec.dtype, hv);
  std::ostringstream params;
  params << "x=" << shape_str(c.shape) << " " << prec.name;
  const double tol = f16 ? 2e-6 : 1e-12;

  Tensor mean = ops::channel_mean(ts.s, h);
  ASSERT_EQ(mean.shape(), Shape({B, 1, c.shape[2], c.shape[3]}));
  auto mean_got = to_host(ts.s, mean);
  std::vector<double> mean_want(size_t(B * HW));
  for (int64_t n = 0; n < B; ++n)
    for (int64_t p = 0; p < HW; ++p) {
      double s = 0;
      for (int64_t k = 0; k < C; ++k) s += hv[size_t((n * C + k) * HW + p)];
      mean_want[size_t(n * HW + p)] = s / double(C);
    }
  EXPECT_TRUE(close_nmse(mean_got, mean_want, tol, "channel_mean " + params.str()));

  // Normalise the GPU's mean (so rounding of the mean does not count twice).
  Tensor norm = ops::minmax_normalize(ts.s, mean);
  auto norm_got = to_host(ts.s, norm);
  std::vector<double> norm_want(mean_got.size());
  for (int64_t n = 0; n < B; ++n) {
    auto first = mean_got.begin() + n * HW;
    double lo = *std::min_element(first, first + HW), hi = *std::max_element(first, first + HW);
    for (int64_t p = 0; p < HW; ++p)
      norm_want[size_t(n * HW + p)] = HW == 1 ? 0.0 : (mean_got[size_t(n * HW + p)] - lo) / (hi - lo);
  }
  if (HW == 1) {
    for (float v : norm_got) EXPECT_TRUE(std::isnan(v)) << "a flat map normalises to 0/0 = NaN, got " << v;
  } else {
    EXPECT_TRUE(close_nmse(norm_got, norm_want, tol, "minmax_normalize " + params.str()));
  }

  for (int version : {1, 2}) {
    const double b = 1.3;
    Tensor out = version == 1 ? ops::scale_channels(ts.s, h, C / 2, nullptr, 0.0, b)
                              : ops::scale_channels(ts.s, h, C / 2, &norm, b - 1.0, 1.0);
    auto got = to_host(ts.s, out);
    std::vector<double> want(hv.begin(), hv.end());
    for (int64_t n = 0; n < B; ++n)
      for (int64_t k = 0; k < C / 2; ++k)
        for (int64_t p = 0; p < HW; ++p) {
          double f = version == 1 ? b : (b - 1.0) * double(norm_got[size_t(n * HW + p)]) + 1.0;
          want[size_t((n * C + k) * HW + p)] *= f;
        }
    if (version == 2 && HW == 1) {
      for (int64_t i = 0; i < int64_t(got.size()); ++i)
        EXPECT_EQ(std::isnan(got[size_t(i)]), (i / HW) % C < C / 2) << "element " << i;
      continue;
    }
    EXPECT_TRUE(close_nmse(got, want, tol, "scale_channels v" + std::to_string(version) + " " + params.str()));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, FreeUOpsTest,
                         ::testing::Combine(::testing::Values(ChannelCase{{2, 8, 1, 1}, false},
                                                              ChannelCase{{1, 6, 3, 5}, false},
                                                              ChannelCase{{2, 128, 9, 10}, false},
                                                              ChannelCase{{2, 1280, 8, 8}, false},
                                                              ChannelCase{{2, 640, 32, 32}, true}),
                                            ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "case" + std::to_string(info.index / precisions().size()) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace vkdream::test
