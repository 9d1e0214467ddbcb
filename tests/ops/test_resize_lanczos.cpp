// ComfyUI's lanczos image resize (8-bit Pillow LANCZOS) against the independent CPU reference in
// reference/lanczos_ref.h: every output must be bit-identical (values k / 255, k the 8-bit result).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>

#include "ops/op_util.h"
#include "ops/resize_lanczos.h"
#include "reference/lanczos_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"
#include "tensor/half.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb/stb_image.h>

namespace vkdream::test {
namespace {

struct LanczosCase {
  Shape in;  // N, C, H, W
  int64_t out_h, out_w;
  bool tall_rule = false;  // Pillow >= 12.2's vertical-first order for very tall images
};

std::vector<LanczosCase> lanczos_cases() {
  return {
      {{1, 1, 5, 7}, 11, 13},     // odd upscale
      {{2, 3, 13, 17}, 5, 6},     // odd downscale, N=2 C=3
      {{1, 3, 1, 1}, 3, 4},       // from one pixel
      {{1, 1, 6, 5}, 1, 1},       // to one pixel
      {{1, 1, 1, 1}, 1, 1},       // one pixel, same size (Image.resize's copy)
      {{1, 3, 4, 6}, 4, 6},       // same size: quantization only
      {{1, 3, 8, 5}, 3, 11},      // down in H, up in W
      {{1, 1, 1, 9}, 1, 4},       // horizontal pass only
      {{1, 1, 9, 1}, 20, 1},      // vertical pass only
      {{2, 3, 17, 23}, 40, 9},    // aspect change, N=2 C=3
      {{1, 1, 64, 64}, 7, 9},     // strong downscale (wide kernels)
      {{1, 3, 60, 80}, 48, 64},   // the ImageScale fixture's sizes
      // Taller than 100x the width: Pillow 9.4 (the goldens') keeps the usual order; Pillow >= 12.2
      // goes vertical first (36 of the first case's 85 pixels differ between the two).
      {{1, 1, 250, 2}, 17, 5},
      {{1, 1, 250, 2}, 17, 5, true},
      {{1, 3, 250, 2}, 17, 2, true},   // width unchanged: the vertical pass alone
      {{1, 1, 202, 2}, 300, 5, true},  // tall but upscaled: the usual order either way
  };
}

// Inputs in [-0.1, 1.1] so clipping is exercised, exact multiples of 1/255 (what LoadImage gives,
// which must quantize back to k), a NaN and infinities.
std::vector<float> lanczos_input(size_t n, uint32_t seed, bool f16) {
  auto v = random_uniform(n, seed, -0.1f, 1.1f, f16);
  for (size_t i = 0; i < n; i += 3) v[i] = float(int(i * 37 % 256)) / 255.0f;
  if (f16)
    for (size_t i = 0; i < n; i += 3) v[i] = half_to_float(float_to_half(v[i]));
  if (n > 8) {
    v[1] = std::numeric_limits<float>::quiet_NaN();
    v[4] = std::numeric_limits<float>::infinity();
    v[7] = -std::numeric_limits<float>::infinity();
  }
  return v;
}

// Bit-exact comparison; counts mismatches and reports the worst difference in 8-bit levels.
::testing::AssertionResult same_values(const std::vector<float>& got, const std::vector<float>& want,
                                       const std::string& params) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << params << ": size mismatch";
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], 4) != 0) {
      if (bad++ == 0) first = i;
      worst = std::max(worst, std::abs(double(got[i]) - want[i]) * 255.0);
    }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << params << ": " << bad << " of " << got.size()
                                       << " values differ, worst by " << worst << " levels; first at " << first
                                       << " got " << got[first] << " want " << want[first];
}

class ResizeLanczosTest : public ::testing::TestWithParam<std::tuple<LanczosCase, Precision>> {};

TEST_P(ResizeLanczosTest, MatchesPillowBitExact) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  bool f16 = prec.dtype == DType::F16;
  auto xv = lanczos_input(size_t(shape_numel(c.in)), 31, f16);
  Tensor x = from_host(ts.s, c.in, prec.dtype, xv);
  Tensor out = ops::resize_lanczos_u8(ts.s, x, c.out_h, c.out_w, c.tall_rule);
  std::ostringstream params;
  params << "resize_lanczos_u8 x=" << shape_str(c.in) << " out=" << c.out_h << "x" << c.out_w
         << (c.tall_rule ? " tall_rule" : "")
         << " " << prec.name;
  ASSERT_EQ(out.shape(), (Shape{c.in[0], c.in[1], c.out_h, c.out_w})) << params.str();
  auto want = ref_comfy_lanczos(xv, int(c.in[0]), int(c.in[1]), int(c.in[2]), int(c.in[3]), int(c.out_h),
                                int(c.out_w), c.tall_rule);
  if (f16)
    for (auto& w : want) w = half_to_float(float_to_half(w));
  EXPECT_TRUE(same_values(to_host(ts.s, out), want, params.str()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, ResizeLanczosTest,
                         ::testing::Combine(::testing::ValuesIn(lanczos_cases()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           const auto& c = std::get<0>(info.param);
                           return "in" + std::to_string(c.in[0]) + "x" + std::to_string(c.in[1]) + "x" +
                                  std::to_string(c.in[2]) + "x" + std::to_string(c.in[3]) + "_to" +
                                  std::to_string(c.out_h) + "x" + std::to_string(c.out_w) +
                                  (c.tall_rule ? "_tall" : "") + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

// The op's coefficient tables equal the reference's fixed-point ones, and each row sums to ~1.0.
TEST(ResizeLanczosCoeffs, MatchReference) {
  for (auto [in, out] : std::vector<std::pair<int, int>>{{5, 11}, {13, 5}, {1, 3}, {64, 7}, {80, 64}, {7, 7}}) {
    auto a = ops::lanczos_axis_coeffs(in, out);
    auto r = lanczos_ref_detail::precompute(in, 0.0f, float(in), out);
    ASSERT_EQ(a.ksize, r.ksize) << in << "->" << out;
    for (int i = 0; i < out; ++i) {
      EXPECT_EQ(a.first[size_t(i)], r.bounds[size_t(i) * 2]) << in << "->" << out << " i=" << i;
      EXPECT_EQ(a.count[size_t(i)], r.bounds[size_t(i) * 2 + 1]) << in << "->" << out << " i=" << i;
      int64_t sum = 0;
      for (int k = 0; k < a.ksize; ++k) {
        EXPECT_EQ(a.coeffs[size_t(i) * a.ksize + k], r.fixed[size_t(i) * r.ksize + k]);
        sum += a.coeffs[size_t(i) * a.ksize + k];
      }
      EXPECT_NEAR(double(sum), double(1 << 22), double(a.ksize)) << in << "->" << out << " i=" << i;
    }
  }
}

// Values worked out by hand from Pillow's algorithm: a constant stays constant whatever the scale
// (the row weights sum to 1 within the rounding term); 1:1 is the identity on 8-bit values;
// LoadImage's k / 255.0f quantizes back to k (255 * x in f32 truncates to k for every k).
TEST(ResizeLanczosSemantics, KnownValues) {
  TestStream ts(precisions()[0]);
  Tensor c = from_host(ts.s, {1, 1, 3, 4}, DType::F32, std::vector<float>(12, 0.5f));
  for (float v : to_host(ts.s, ops::resize_lanczos_u8(ts.s, c, 7, 5))) EXPECT_EQ(v, 127.0f / 255.0f);
  std::vector<float> ks;
  for (int k = 0; k < 256; ++k) ks.push_back(float(k) / 255.0f);
  Tensor x = from_host(ts.s, {1, 1, 16, 16}, DType::F32, ks);
  auto got = to_host(ts.s, ops::resize_lanczos_u8(ts.s, x, 16, 16));
  for (int k = 0; k < 256; ++k) {
    EXPECT_EQ(got[size_t(k)], float(k) / 255.0f) << k;
  }
  // Wrong channel counts and sizes are refused.
  Tensor four = from_host(ts.s, {1, 4, 2, 2}, DType::F32, std::vector<float>(16, 0.0f));
  EXPECT_THROW(ops::resize_lanczos_u8(ts.s, four, 3, 3), ops::OpError);
  EXPECT_THROW(ops::resize_lanczos_u8(ts.s, c, 0, 3), ops::OpError);
}

// The two Pillow orders for very tall images really differ (so the bit-exact cases above pin each).
TEST(ResizeLanczosSemantics, TallImageOrderMatters) {
  TestStream ts(precisions()[0]);
  Shape in{1, 1, 250, 2};
  auto xv = lanczos_input(size_t(shape_numel(in)), 31, false);
  Tensor x = from_host(ts.s, in, DType::F32, xv);
  auto old_order = to_host(ts.s, ops::resize_lanczos_u8(ts.s, x, 17, 5, false));
  auto new_order = to_host(ts.s, ops::resize_lanczos_u8(ts.s, x, 17, 5, true));
  size_t differ = 0;
  for (size_t i = 0; i < old_order.size(); ++i) differ += old_order[i] != new_order[i];
  EXPECT_GT(differ, 10u);
}

// The img2img_imagescale_lanczos graph's LoadImage -> ImageScale(lanczos, 64 x 48) step (prompt.json
// node 11) on its real input PNG. The graph's output went through a VAE, so only the reference can
// judge the resize itself.
TEST(ResizeLanczosFixture, ImageScaleInput) {
  std::filesystem::path png = std::filesystem::path(__FILE__).parent_path().parent_path() /
                              "fixtures/graphs/img2img_imagescale_lanczos/input/input_b.png";
  int w = 0, h = 0, ch = 0;
  stbi_uc* px = stbi_load(png.string().c_str(), &w, &h, &ch, 3);
  ASSERT_NE(px, nullptr) << "fixture missing: " << png;
  ASSERT_EQ(w, 80);
  ASSERT_EQ(h, 60);
  // LoadImage: np.array(img).astype(np.float32) / 255.0, HWC -> our NCHW.
  std::vector<float> xv(size_t(3) * h * w);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < h * w; ++i) xv[size_t(c) * h * w + i] = float(px[size_t(i) * 3 + c]) / 255.0f;
  stbi_image_free(px);
  TestStream ts(precisions()[0]);
  Tensor x = from_host(ts.s, {1, 3, h, w}, DType::F32, xv);
  auto got = to_host(ts.s, ops::resize_lanczos_u8(ts.s, x, 48, 64));
  auto want = ref_comfy_lanczos(xv, 1, 3, h, w, 48, 64);
  EXPECT_TRUE(same_values(got, want, "ImageScale fixture 80x60 -> 64x48"));
}

}  // namespace
}  // namespace vkdream::test
