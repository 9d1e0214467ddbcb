// FreeU / FreeU_V2 on the UNet: the output_block_patch against a double-precision CPU reference of
// comfy_extras/nodes_freelunch.py, and the tiny UNet with the patch (b = s = 1 is the plain UNet up to
// FFT rounding; FreeU_V2 at a 1x1 bottom level is NaN, as in ComfyUI).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

#include "model/sd15_checkpoint.h"
#include "model/tiny_sd15.h"
#include "model/unet_patches.h"
#include "ops/fourier_filter.h"
#include "reference/fourier_ref.h"
#include "support/gpu_env.h"
#include "vulkan/stream.h"

namespace vkdream::model {
namespace {

vk::Context& gpu() { return test::context(); }

std::vector<float> normal(size_t n, uint32_t seed, bool round_f16) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = round_f16 ? half_to_float(float_to_half(d(rng))) : d(rng);
  return v;
}

// Normalized MSE sum (got - want)^2 / sum want^2 over finite entries; NaN positions must agree.
double nmse(const std::vector<float>& got, const std::vector<double>& want, int64_t* nan_mismatch) {
  double num = 0, den = 0;
  *nan_mismatch = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i]) || std::isnan(got[i])) {
      *nan_mismatch += std::isnan(want[i]) != std::isnan(got[i]);
      continue;
    }
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return den > 0 ? num / den : num;
}

struct PatchCase {
  int model_channels;
  Shape h, hsp;
};

class FreeUPatchTest : public ::testing::TestWithParam<std::tuple<PatchCase, int, DType>> {};

TEST_P(FreeUPatchTest, MatchesComfyUIReference) {
  auto [c, version, dtype] = GetParam();
  const bool f16 = dtype == DType::F16;
  if (f16 && !gpu().caps().fp16_storage) GTEST_SKIP() << "no 16-bit storage";
  vk::Stream s(gpu());
  ops::FFTPlans plans(gpu());
  const FreeUPatch p{version, 1.3, 1.4, 0.9, 0.2};
  auto hv = normal(size_t(shape_numel(c.h)), 21, f16), sv = normal(size_t(shape_numel(c.hsp)), 22, f16);
  Tensor h = from_host(s, c.h, dtype, hv), hsp = from_host(s, c.hsp, dtype, sv);
  Tensor h0 = h, hsp0 = hsp;
  apply_freeu(s, plans, p, c.model_channels, h, hsp);

  // ComfyUI: scale_dict.get(h.shape[1]); nothing happens for other channel counts.
  const int64_t C = c.h[1];
  double b = 0, sc = 0;
  bool hit = true;
  if (C == 4 * c.model_channels) b = p.b1, sc = p.s1;
  else if (C == 2 * c.model_channels) b = p.b2, sc = p.s2;
  else hit = false;
  std::vector<double> h_want(hv.begin(), hv.end()), s_want(sv.begin(), sv.end());
  if (hit) {
    h_want = test::freeu_backbone_ref(hv, c.h[0], C, c.h[2] * c.h[3], version, b);
    s_want = test::fourier_filter_ref(sv, c.hsp[0] * c.hsp[1], c.hsp[2], c.hsp[3], 1, sc);
  } else {
    EXPECT_EQ(h.allocation(), h0.allocation()) << "h must pass through untouched";
    EXPECT_EQ(hsp.allocation(), hsp0.allocation()) << "hsp must pass through untouched";
  }
  std::ostringstream params;
  params << "FreeU v" << version << " mc=" << c.model_channels << " h=" << shape_str(c.h)
         << " hsp=" << shape_str(c.hsp) << " " << dtype_name(dtype);
  int64_t nan_h = 0, nan_s = 0;
  double eh = nmse(to_host(s, h), h_want, &nan_h), es = nmse(to_host(s, hsp), s_want, &nan_s);
  std::printf("[freeu] %-64s nmse h %.2e hsp %.2e\n", params.str().c_str(), eh, es);
  const double tol = f16 ? 2e-6 : 1e-11;
  EXPECT_EQ(nan_h, 0) << params.str() << ": NaN positions of h differ";
  EXPECT_EQ(nan_s, 0) << params.str() << ": NaN positions of hsp differ";
  EXPECT_LE(eh, tol) << params.str();
  EXPECT_LE(es, tol) << params.str();
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FreeUPatchTest,
    ::testing::Combine(::testing::Values(PatchCase{32, {1, 128, 1, 1}, {1, 128, 1, 1}},  // tiny UNet at 64 px
                                         PatchCase{32, {2, 128, 3, 3}, {2, 128, 3, 3}},
                                         PatchCase{32, {2, 128, 5, 5}, {2, 64, 5, 5}},
                                         PatchCase{32, {1, 64, 9, 10}, {1, 32, 9, 10}},
                                         PatchCase{32, {1, 32, 9, 10}, {1, 32, 9, 10}},  // not patched
                                         PatchCase{320, {2, 1280, 8, 8}, {2, 1280, 8, 8}},  // SD1.5 at 512 px
                                         PatchCase{320, {2, 640, 32, 32}, {2, 320, 32, 32}}),
                       ::testing::Values(1, 2), ::testing::Values(DType::F32, DType::F16)),
    [](const auto& info) {
      return "case" + std::to_string(info.index / 4) + "_v" + std::to_string(std::get<1>(info.param)) + "_" +
             dtype_name(std::get<2>(info.param));
    });

// ---- the tiny UNet with the patch ----

const SD15Models& tiny_models() {
  static SD15Models m = [] {
    auto paths = ensure_tiny_sd15(VKDREAM_TINY_DIR);
    vk::Stream s(gpu());
    return load_sd15_checkpoint(s, paths.f32, DType::F32);
  }();
  return m;
}

struct UNetRun {
  std::vector<float> eps;
  int64_t nan = 0;
};

UNetRun run_unet(const Shape& x_shape, const UNetPatches& patches) {
  const auto& m = tiny_models();
  vk::Stream s(gpu());
  const int64_t B = x_shape[0];
  Tensor x = from_host(s, x_shape, DType::F32, normal(size_t(shape_numel(x_shape)), 31, false));
  Tensor ctx = from_host(s, {B, 77, m.config.unet.context_dim}, DType::F32,
                         normal(size_t(B * 77 * m.config.unet.context_dim), 32, false));
  std::vector<float> t{999.0f, 421.5f};
  t.resize(size_t(B), 10.0f);
  UNetRun r;
  r.eps = to_host(s, m.unet->forward(s, x, t, ctx, patches));
  for (float v : r.eps) r.nan += std::isnan(v);
  return r;
}

double nmse(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    num += double(got[i] - want[i]) * double(got[i] - want[i]);
    den += double(want[i]) * double(want[i]);
  }
  return num / den;
}

TEST(FreeUUNet, UnitScalesAreThePlainUNet) {
  const Shape xs{2, 4, 9, 10};  // 72 x 80 px, the FreeU_V2 golden's size: bottom level 2 x 2
  UNetRun plain = run_unet(xs, {});
  ASSERT_EQ(plain.nan, 0);
  for (int version : {1, 2}) {
    UNetRun patched = run_unet(xs, {FreeUPatch{version, 1.0, 1.0, 1.0, 1.0}});
    ASSERT_EQ(patched.nan, 0) << "v" << version;
    double e = nmse(patched.eps, plain.eps);
    std::printf("[freeu] UNet v%d at b = s = 1 vs plain: nmse %.2e\n", version, e);
    EXPECT_LE(e, 1e-11) << "v" << version;  // only the FFT round trip's rounding
  }
}

TEST(FreeUUNet, DefaultsChangeTheOutput) {
  const Shape xs{2, 4, 9, 10};
  UNetRun plain = run_unet(xs, {});
  for (int version : {1, 2}) {
    UNetRun patched = run_unet(xs, {FreeUPatch{version, 1.3, 1.4, 0.9, 0.2}});
    ASSERT_EQ(patched.nan, 0) << "v" << version;
    EXPECT_GT(nmse(patched.eps, plain.eps), 1e-6) << "v" << version;
  }
}

// 64 x 64 px: the bottom level is 1 x 1, so FreeU_V2's min-max normalisation is 0 / 0 and ComfyUI's
// output is NaN (graphs/index.json notes); FreeU (v1) is fine there.
TEST(FreeUUNet, V2IsNaNAtA1x1BottomLevel) {
  const Shape xs{1, 4, 8, 8};
  EXPECT_EQ(run_unet(xs, {FreeUPatch{1, 1.1, 1.2, 0.9, 0.2}}).nan, 0);
  UNetRun v2 = run_unet(xs, {FreeUPatch{2, 1.3, 1.4, 0.9, 0.2}});
  EXPECT_EQ(v2.nan, int64_t(v2.eps.size()));
}

TEST(FreeUUNet, RejectsUnknownVersion) {
  EXPECT_THROW(run_unet({1, 4, 8, 8}, {FreeUPatch{3, 1, 1, 1, 1}}), std::invalid_argument);
}

}  // namespace
}  // namespace vkdream::model
