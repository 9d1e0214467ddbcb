// Activations (SiLU, GELU, QuickGELU), GEGLU, scale and cast against double-precision CPU
// references (tests/reference/norm_ref.h), on odd shapes and the SD1.5 shapes, in every variant.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <tuple>

#include "ops/activation.h"
#include "ops/op_util.h"
#include "reference/norm_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

constexpr int64_t kFullCompare = 1 << 16;
constexpr int64_t kSamples = 16384;

// Random inputs shared by the precision variants of one shape (see test_norm.cpp).
const std::vector<float>& inputs(size_t n, uint32_t seed, float stddev, bool f16) {
  static std::map<std::tuple<size_t, uint32_t, float, bool>, std::vector<float>> cache;
  auto key = std::make_tuple(n, seed, stddev, f16);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  return cache.emplace(key, random_normal(n, seed, stddev, f16)).first->second;
}

const char* act_name(ops::Activation a) {
  switch (a) {
    case ops::Activation::kSiLU: return "silu";
    case ops::Activation::kGELU: return "gelu";
    case ops::Activation::kQuickGELU: return "quick_gelu";
    case ops::Activation::kRound: return "round";
  }
  return "?";
}

double act_ref(ops::Activation a, double x) {
  switch (a) {
    case ops::Activation::kSiLU: return ref::silu(x);
    case ops::Activation::kGELU: return ref::gelu(x);
    case ops::Activation::kQuickGELU: return ref::quick_gelu(x);
    case ops::Activation::kRound: return std::nearbyint(x);
  }
  return 0;
}

// Measured worst normalized MSE on lavapipe: f32 7.7e-15 (GEGLU; GELU 1.9e-15, SiLU 1.9e-15),
// f16 1.1e-7 (SiLU: output rounding), f16a 1.3e-7 (SiLU/QuickGELU computed in f16; GELU and
// GEGLU stay in f32). Tolerances keep a 15x+ margin.
double act_tolerance(const Precision& p) {
  if (p.dtype == DType::F32) return 2e-13;
  return p.f16_arithmetic ? 3e-6 : 2e-6;
}

// ---------------------------------------------------------------------------------------------
struct ActCase {
  Shape x;
  ops::Activation act;
  bool big;  // left out in quick mode
};

std::vector<ActCase> act_cases() {
  using A = ops::Activation;
  std::vector<ActCase> all = {
      {{1}, A::kSiLU, false},
      {{7}, A::kGELU, false},              // shorter than one vector of 4
      {{3, 5, 7}, A::kQuickGELU, false},   // tail after the last vector of 4
      {{1001}, A::kGELU, false},
      {{2, 3, 129}, A::kSiLU, false},
      {{2, 77, 3072}, A::kQuickGELU, false},  // CLIP MLP
      {{2, 1280}, A::kSiLU, false},           // time embedding
      {{2, 4096, 1280}, A::kSiLU, true},
      {{2, 4096, 1280}, A::kGELU, true},
  };
  std::vector<ActCase> out;
  for (auto& c : all)
    if (!(quick() && c.big)) out.push_back(c);
  return out;
}

class ActivationTest : public ::testing::TestWithParam<std::tuple<ActCase, Precision>> {};

TEST_P(ActivationTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  int64_t n = shape_numel(c.x);
  const auto& xv = inputs(size_t(n), 41, 3.0f, prec.dtype == DType::F16);
  Tensor x = from_host(ts.s, c.x, prec.dtype, xv);
  Tensor y = ops::activation(ts.s, x, c.act);
  ASSERT_EQ(y.shape(), c.x);
  auto got = to_host(ts.s, y);
  auto idx = sample_indices(n, n <= kFullCompare ? n : kSamples, 42);
  std::vector<double> want(idx.size());
  for (size_t k = 0; k < idx.size(); ++k) want[k] = act_ref(c.act, xv[size_t(idx[k])]);
  std::ostringstream params;
  params << act_name(c.act) << " x=" << shape_str(c.x) << " " << prec.name;
  EXPECT_TRUE(close_nmse_at(got, idx, want, act_tolerance(prec), params.str()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, ActivationTest,
                         ::testing::Combine(::testing::ValuesIn(act_cases()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "case" + std::to_string(info.index / precisions().size()) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

// torch.round: halves go to the even neighbour, in every precision (masks are rounded this way).
TEST(ActivationValues, RoundIsHalfToEven) {
  std::vector<float> xv = {-2.5f, -1.5f, -0.5f, 0.0f, 0.49f, 0.5f, 0.51f, 1.5f, 2.5f, 3.7f, -3.7f, 1.0f, 7.5f};
  for (const auto& prec : precisions()) {
    TestStream ts(prec);
    Tensor x = from_host(ts.s, {int64_t(xv.size())}, prec.dtype, xv);
    auto got = to_host(ts.s, ops::round(ts.s, x));
    for (size_t i = 0; i < xv.size(); ++i)
      EXPECT_EQ(got[i], std::nearbyint(xv[i])) << "round(" << xv[i] << ") " << prec.name;
  }
}

// Tails and extremes, element by element: relative error of every value, not just the NMSE
// (GELU at -5 is -1.4e-6 and must not be swamped by cancellation).
TEST(ActivationValues, TailsAreRelativelyAccurate) {
  std::vector<float> xv = {-100.0f, -30.0f, -12.0f, -8.0f, -5.0f, -3.0f, -1.0f, -1e-3f, 0.0f, 1e-3f,
                           0.5f,    1.0f,   3.0f,   5.0f,  8.0f,  12.0f, 30.0f, 100.0f, -0.25f, 2.5f};
  TestStream ts(precisions()[0]);
  Tensor x = from_host(ts.s, {int64_t(xv.size())}, DType::F32, xv);
  for (auto a : {ops::Activation::kSiLU, ops::Activation::kGELU, ops::Activation::kQuickGELU}) {
    auto got = to_host(ts.s, ops::activation(ts.s, x, a));
    for (size_t i = 0; i < xv.size(); ++i) {
      double w = act_ref(a, xv[i]);
      if (std::fabs(w) < 1e-30) {
        EXPECT_LE(std::fabs(got[i]), 1e-30) << act_name(a) << "(" << xv[i] << ")";
        continue;
      }
      // Vulkan lets exp(y) be off by 3 + 2|y| ulp; y = -x (SiLU), -1.702x (QuickGELU), -x^2/2
      // (GELU). On lavapipe the worst is silu(-30) at 1.2e-6 (10 ulp).
      double ax = std::fabs(xv[i]);
      double y = a == ops::Activation::kSiLU ? ax : a == ops::Activation::kQuickGELU ? 1.702 * ax : ax * ax / 2;
      double tol = 4e-7 + (3 + 2 * y) * 1.2e-7;
      EXPECT_NEAR(got[i] / w, 1.0, tol) << act_name(a) << "(" << xv[i] << ") = " << got[i] << ", want " << w;
    }
  }
}

// ---------------------------------------------------------------------------------------------
struct GegluCase {
  Shape x;  // [..., 2F]
  bool big;
};

std::vector<GegluCase> geglu_cases() {
  std::vector<GegluCase> all = {
      {{3, 10}, false},         // F = 5: scalar path
      {{2, 5, 8}, false},       // F = 4
      {{6}, false},             // rank 1
      {{2, 64, 10240}, false},  // SD1.5 UNet at 8x8 (dim 1280, inner 5120)
      {{2, 4096, 2560}, true},  // SD1.5 UNet at 64x64 (dim 320, inner 1280)
  };
  std::vector<GegluCase> out;
  for (auto& c : all)
    if (!(quick() && c.big)) out.push_back(c);
  return out;
}

class GegluTest : public ::testing::TestWithParam<std::tuple<GegluCase, Precision>> {};

TEST_P(GegluTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  int64_t n = shape_numel(c.x), F = c.x.back() / 2;
  const auto& xv = inputs(size_t(n), 51, 2.0f, prec.dtype == DType::F16);
  Tensor x = from_host(ts.s, c.x, prec.dtype, xv);
  Tensor y = ops::geglu(ts.s, x);
  Shape os = c.x;
  os.back() = F;
  ASSERT_EQ(y.shape(), os);
  auto got = to_host(ts.s, y);
  int64_t m = n / 2;
  auto idx = sample_indices(m, m <= kFullCompare ? m : kSamples, 52);
  std::vector<double> want(idx.size());
  for (size_t k = 0; k < idx.size(); ++k) want[k] = ref::geglu_at(xv, F, idx[k]);
  std::ostringstream params;
  params << "geglu x=" << shape_str(c.x) << " F=" << F << " " << prec.name;
  EXPECT_TRUE(close_nmse_at(got, idx, want, act_tolerance(prec), params.str()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, GegluTest,
                         ::testing::Combine(::testing::ValuesIn(geglu_cases()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "case" + std::to_string(info.index / precisions().size()) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

// ---------------------------------------------------------------------------------------------
struct ScaleCase {
  Shape x;
  float mul, add;
};

class ScaleTest : public ::testing::TestWithParam<std::tuple<ScaleCase, Precision>> {};

TEST_P(ScaleTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  int64_t n = shape_numel(c.x);
  const auto& xv = inputs(size_t(n), 61, 1.0f, prec.dtype == DType::F16);
  Tensor x = from_host(ts.s, c.x, prec.dtype, xv);
  auto got = to_host(ts.s, ops::scale(ts.s, x, c.mul, c.add));
  std::vector<double> want(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) want[size_t(i)] = double(xv[size_t(i)]) * c.mul + c.add;
  std::ostringstream params;
  params << "scale x=" << shape_str(c.x) << " mul=" << c.mul << " add=" << c.add << " " << prec.name;
  EXPECT_TRUE(close_nmse(got, want, act_tolerance(prec), params.str()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, ScaleTest,
                         ::testing::Combine(::testing::Values(ScaleCase{{7}, -2.0f, 0.5f},
                                                              ScaleCase{{3, 1, 5}, 1.0f, 0.0f},
                                                              ScaleCase{{2, 4, 64, 64}, 0.18215f, 0.0f},
                                                              ScaleCase{{1, 3, 64, 64}, 0.5f, 0.5f}),
                                            ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "case" + std::to_string(info.index / precisions().size()) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

// ---------------------------------------------------------------------------------------------
// Cast from the precision's dtype to the other one; must equal the host's IEEE conversion bit
// for bit (f32 -> f16 rounds to nearest even, overflows to inf, keeps subnormals and -0).
class CastTest : public ::testing::TestWithParam<std::tuple<Shape, Precision>> {};

TEST_P(CastTest, MatchesHostConversionExactly) {
  auto [shape, prec] = GetParam();
  TestStream ts(prec);
  int64_t n = shape_numel(shape);
  bool from_f16 = prec.dtype == DType::F16;
  DType to = from_f16 ? DType::F32 : DType::F16;
  auto xv = random_normal(size_t(n), 71, 4.0f, from_f16);
  const float specials[] = {0.0f, -0.0f, 65504.0f, 65519.0f, 65520.0f, 1e5f, -1e5f, 6e-8f, 3e-5f, -1e-6f,
                            1.0f + 1.0f / 2048.0f, 1.0f + 3.0f / 2048.0f};
  for (size_t i = 0; i < std::size(specials) && i < xv.size(); ++i)
    xv[i] = from_f16 ? half_to_float(float_to_half(specials[i])) : specials[i];
  Tensor x = from_host(ts.s, shape, prec.dtype, xv);
  Tensor y = ops::cast(ts.s, x, to);
  ASSERT_EQ(y.dtype(), to);
  ASSERT_EQ(y.shape(), shape);
  auto got = to_host(ts.s, y);
  std::ostringstream params;
  params << "cast x=" << shape_str(shape) << " " << dtype_name(prec.dtype) << "->" << dtype_name(to) << " "
         << prec.name;
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    float want = from_f16 ? xv[size_t(i)] : half_to_float(float_to_half(xv[size_t(i)]));
    if (std::memcmp(&want, &got[size_t(i)], 4) != 0 && bad++ < 5)
      ADD_FAILURE() << params.str() << ": at " << i << " x=" << xv[size_t(i)] << " got " << got[size_t(i)]
                    << " want " << want;
  }
  EXPECT_EQ(bad, 0) << params.str();
}

INSTANTIATE_TEST_SUITE_P(Shapes, CastTest,
                         ::testing::Combine(::testing::Values(Shape{13}, Shape{3, 5, 7}, Shape{2, 4, 64, 64},
                                                              Shape{1, 3, 512, 512}),
                                            ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "case" + std::to_string(info.index / precisions().size()) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

TEST(CastValues, SameDtypeSharesStorage) {
  TestStream ts(precisions()[0]);
  Tensor x = from_host(ts.s, {3}, DType::F32, {1.0f, 2.0f, 3.0f});
  Tensor y = ops::cast(ts.s, x, DType::F32);
  EXPECT_EQ(y.allocation(), x.allocation());
}

// Unaligned views and big tensors: windows that bind aligned ranges and index inside them.
TEST(ActivationViews, UnalignedSliceMatchesReference) {
  for (const auto& prec : precisions()) {
    TestStream ts(prec);
    const auto& xv = inputs(5 * 11, 81, 2.0f, prec.dtype == DType::F16);
    Tensor full = from_host(ts.s, {5, 11}, prec.dtype, xv);
    Tensor x = full.slice0(1, 3);  // offset 11 elements
    auto got = to_host(ts.s, ops::gelu(ts.s, x));
    auto gg = to_host(ts.s, ops::geglu(ts.s, x.reshape({3, 11}).slice0(0, 2).reshape({2, 11}).slice0(0, 2)
                                                 .reshape({22})));
    std::vector<double> want(33), wg(11);
    for (int i = 0; i < 33; ++i) want[size_t(i)] = ref::gelu(xv[size_t(11 + i)]);
    std::vector<float> sub(xv.begin() + 11, xv.begin() + 33);
    for (int i = 0; i < 11; ++i) wg[size_t(i)] = ref::geglu_at(sub, 11, i);
    EXPECT_TRUE(close_nmse(got, want, act_tolerance(prec), std::string("gelu slice0(1,3) of [5, 11] ") + prec.name));
    EXPECT_TRUE(close_nmse(gg, wg, act_tolerance(prec), std::string("geglu [22] at offset 11 ") + prec.name));
  }
}

TEST(ActivationLarge, SpansSeveralBindings) {
  if (quick()) return;  // the largest shape; exercises no API path the slices above do not
  const auto& caps = context().caps();
  int64_t n = int64_t(caps.max_storage_buffer_range / 4) + 1000003;
  std::vector<float> xv(static_cast<size_t>(n));
  uint32_t h = 777;
  for (auto& v : xv) {
    h = h * 1664525u + 1013904223u;
    v = float(h >> 8) * (1.0f / 16777216.0f) * 8.0f - 4.0f;
  }
  TestStream ts(precisions()[0]);
  Tensor x = from_host(ts.s, {n}, DType::F32, xv);
  auto got = to_host(ts.s, ops::silu(ts.s, x));
  auto idx = sample_indices(n, kSamples, 91);
  std::vector<double> want(idx.size());
  for (size_t k = 0; k < idx.size(); ++k) want[k] = ref::silu(xv[size_t(idx[k])]);
  EXPECT_TRUE(close_nmse_at(got, idx, want, 2e-13, "silu x=[" + std::to_string(n) + "] f32 (several bindings)"));
}

TEST(ActivationErrors, BadOperandsThrow) {
  TestStream ts(precisions()[0]);
  auto& ctx = context();
  Tensor odd = Tensor::empty(ctx, {4, 7}, DType::F32);
  try {
    ops::geglu(ts.s, odd);
    ADD_FAILURE() << "expected an OpError";
  } catch (const ops::OpError& e) {
    EXPECT_NE(std::string(e.what()).find("geglu"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4, 7]"), std::string::npos) << e.what();
  }
  Tensor idx = Tensor::empty(ctx, {4}, DType::I32);
  EXPECT_THROW(ops::silu(ts.s, idx), ops::OpError);
  EXPECT_THROW(ops::scale(ts.s, idx, 2.0f), ops::OpError);
  EXPECT_THROW(ops::cast(ts.s, odd, DType::I32), ops::OpError);
  try {
    ops::cast(ts.s, idx, DType::F32);
    ADD_FAILURE() << "expected an OpError";
  } catch (const ops::OpError& e) {
    EXPECT_NE(std::string(e.what()).find("[4] i32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vkdream::test
