// GroupNorm (with fused SiLU) and LayerNorm against double-precision CPU references
// (tests/reference/norm_ref.h), on odd shapes and the SD1.5 shapes, in every precision variant.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <tuple>

#include "ops/norm.h"
#include "ops/op_util.h"
#include "reference/norm_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

// Outputs above this many elements are compared at a sample of positions.
constexpr int64_t kFullCompare = 1 << 16;
constexpr int64_t kSamples = 16384;

// Random inputs, cached so the precision variants of one shape share the work of generating
// them: normal(0, stddev) + offset, rounded to f16 for the f16 variants.
const std::vector<float>& inputs(size_t n, uint32_t seed, float stddev, float offset, bool f16) {
  static std::map<std::tuple<size_t, uint32_t, float, float, bool>, std::vector<float>> cache;
  auto key = std::make_tuple(n, seed, stddev, offset, f16);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto v = random_normal(n, seed, stddev, false);
  for (auto& x : v) {
    x += offset;
    if (f16) x = half_to_float(float_to_half(x));
  }
  return cache.emplace(key, std::move(v)).first->second;
}

// Measured worst normalized MSE on lavapipe over these cases: f32 4.9e-13 (GroupNorm, mean 50 >>
// std: the float mean's rounding), f16 5.2e-8 (the output's f16 rounding), f16a the same as f16
// (norms compute in f32 whatever the variant). Tolerances keep a ~20x margin.
double norm_tolerance(const Precision& p) { return p.dtype == DType::F32 ? 1e-11 : 1e-6; }

// ---------------------------------------------------------------------------------------------
struct GroupNormCase {
  Shape x;
  int groups;
  float eps;
  bool silu;
  float offset;  // added to the N(0, 1.5) input: large values test the variance's cancellation
  bool big;      // left out in quick mode
};

std::string gn_params(const GroupNormCase& c, const Precision& p) {
  std::ostringstream os;
  os << "group_norm x=" << shape_str(c.x) << " groups=" << c.groups << " eps=" << c.eps << " silu=" << c.silu
     << " offset=" << c.offset << " " << p.name;
  return os.str();
}

std::vector<GroupNormCase> group_norm_cases() {
  std::vector<GroupNormCase> all = {
      // odd shapes
      {{1, 6, 5, 7}, 3, 1e-5f, false, 0.0f, false},      // odd spatial size: scalar path
      {{2, 7, 3}, 7, 1e-5f, true, 0.5f, false},          // one channel per group, C odd
      {{3, 12}, 4, 1e-5f, false, 0.0f, false},           // no spatial dims
      {{2, 8, 1, 1}, 8, 1e-5f, true, 0.0f, false},       // one element per group: output = beta
      {{1, 4, 2, 2, 3}, 2, 1e-6f, true, 0.0f, false},    // three spatial dims
      {{2, 64, 20, 20}, 32, 1e-5f, true, 50.0f, false},  // mean 50 >> std 1.5
      {{1, 32, 70, 70}, 32, 1e-5f, false, -3.0f, false}, // several chunks per group, short tail
      {{1, 6, 3, 1}, 2, 1e-5f, false, 1.0f, false},      // tiny
      // SD1.5 UNet (eps 1e-5) and VAE (eps 1e-6)
      {{2, 320, 64, 64}, 32, 1e-5f, true, 0.0f, false},
      {{2, 640, 32, 32}, 32, 1e-5f, false, 0.0f, false},
      {{2, 1280, 8, 8}, 32, 1e-5f, true, 0.0f, false},
      {{1, 512, 64, 64}, 32, 1e-6f, true, 0.0f, false},
      {{1, 128, 256, 256}, 32, 1e-6f, false, 0.0f, true},
  };
  std::vector<GroupNormCase> out;
  for (auto& c : all)
    if (!(quick() && c.big)) out.push_back(c);
  return out;
}

class GroupNormTest : public ::testing::TestWithParam<std::tuple<GroupNormCase, Precision>> {};

TEST_P(GroupNormTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  bool f16 = prec.dtype == DType::F16;
  int64_t N = c.x[0], C = c.x[1], n = shape_numel(c.x), HW = n / (N * C);
  const auto& xv = inputs(size_t(n), 11, 1.5f, c.offset, f16);
  auto gv = random_normal(size_t(C), 12, 0.5f, f16);
  for (auto& g : gv) g = f16 ? half_to_float(float_to_half(g + 1.0f)) : g + 1.0f;
  auto bv = random_normal(size_t(C), 13, 0.5f, f16);
  Tensor x = from_host(ts.s, c.x, prec.dtype, xv);
  Tensor gamma = from_host(ts.s, {C}, prec.dtype, gv);
  Tensor beta = from_host(ts.s, {C}, prec.dtype, bv);
  Tensor y = ops::group_norm(ts.s, x, gamma, beta, c.groups, c.eps, c.silu);
  ASSERT_EQ(y.shape(), c.x);
  ASSERT_EQ(y.dtype(), prec.dtype);
  auto got = to_host(ts.s, y);
  auto st = ref::group_norm_stats(xv, N, C, HW, c.groups, c.eps);
  auto idx = sample_indices(n, n <= kFullCompare ? n : kSamples, 14);
  std::vector<double> want(idx.size());
  for (size_t k = 0; k < idx.size(); ++k)
    want[k] = ref::group_norm_at(xv, st, gv, bv, C, HW, c.groups, c.silu, idx[k]);
  EXPECT_TRUE(close_nmse_at(got, idx, want, norm_tolerance(prec), gn_params(c, prec)));
}

INSTANTIATE_TEST_SUITE_P(Shapes, GroupNormTest,
                         ::testing::Combine(::testing::ValuesIn(group_norm_cases()),
                                            ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "case" + std::to_string(info.index / precisions().size()) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

// A view that starts at an offset no binding may start at: the op binds an aligned range and
// indexes from inside it.
TEST(GroupNormViews, UnalignedSliceMatchesReference) {
  for (const auto& prec : precisions()) {
    TestStream ts(prec);
    bool f16 = prec.dtype == DType::F16;
    Shape full{5, 6, 7};  // slice rows 1..3: offset 42 elements
    const auto& xv = inputs(size_t(shape_numel(full)), 21, 1.0f, 0.0f, f16);
    auto gv = random_normal(6, 22, 1.0f, f16), bv = random_normal(6, 23, 1.0f, f16);
    Tensor xf = from_host(ts.s, full, prec.dtype, xv);
    Tensor gamma = from_host(ts.s, {6}, prec.dtype, gv), beta = from_host(ts.s, {6}, prec.dtype, bv);
    Tensor y = ops::group_norm(ts.s, xf.slice0(1, 3), gamma, beta, 3, 1e-5f, true);
    auto got = to_host(ts.s, y);
    std::vector<float> xs(xv.begin() + 42, xv.begin() + 42 + 126);
    auto st = ref::group_norm_stats(xs, 3, 6, 7, 3, 1e-5);
    std::vector<double> want(126);
    for (int64_t i = 0; i < 126; ++i) want[size_t(i)] = ref::group_norm_at(xs, st, gv, bv, 6, 7, 3, true, i);
    EXPECT_TRUE(close_nmse(got, want, norm_tolerance(prec), std::string("group_norm slice0(1,3) of [5, 6, 7] ") +
                                                                 prec.name));
  }
}

// A tensor larger than one storage binding (128 MiB on lavapipe) is processed in windows.
TEST(GroupNormLarge, SpansSeveralBindings) {
  if (quick()) return;  // the largest shape; exercises no API path the windows above do not
  const auto& caps = context().caps();
  Shape shape{1, 32, 1024, 1040};  // 136 MB in f32
  int64_t n = shape_numel(shape);
  if (uint64_t(n) * 4 <= caps.max_storage_buffer_range) shape = {1, 32, int64_t(caps.max_storage_buffer_range / 4 / 32 / 1040 + 8), 1040};
  n = shape_numel(shape);
  int64_t HW = n / 32;
  // A cheap deterministic pattern instead of normal samples: this test is about addressing.
  std::vector<float> xv(static_cast<size_t>(n));
  uint32_t h = 12345;
  for (int64_t i = 0; i < n; ++i) {
    h = h * 1664525u + 1013904223u;
    xv[size_t(i)] = float(h >> 8) * (1.0f / 16777216.0f) * 4.0f - 2.0f + float((i / HW) % 5);
  }
  auto gv = random_normal(32, 32, 1.0f), bv = random_normal(32, 33, 1.0f);
  TestStream ts(precisions()[0]);
  Tensor x = from_host(ts.s, shape, DType::F32, xv);
  Tensor gamma = from_host(ts.s, {32}, DType::F32, gv), beta = from_host(ts.s, {32}, DType::F32, bv);
  Tensor y = ops::group_norm(ts.s, x, gamma, beta, 32, 1e-6f, true);
  auto got = to_host(ts.s, y);
  auto st = ref::group_norm_stats(xv, 1, 32, HW, 32, 1e-6);
  auto idx = sample_indices(n, kSamples, 34);
  std::vector<double> want(idx.size());
  for (size_t k = 0; k < idx.size(); ++k) want[k] = ref::group_norm_at(xv, st, gv, bv, 32, HW, 32, true, idx[k]);
  EXPECT_TRUE(close_nmse_at(got, idx, want, 1e-11, "group_norm x=" + shape_str(shape) + " groups=32 silu f32"));
}

TEST(GroupNormErrors, BadOperandsThrowNamingShapes) {
  TestStream ts(precisions()[0]);
  auto& ctx = context();
  Tensor x = Tensor::empty(ctx, {2, 6, 4, 4}, DType::F32);
  Tensor g6 = Tensor::empty(ctx, {6}, DType::F32), g5 = Tensor::empty(ctx, {5}, DType::F32);
  auto expect_error = [&](auto fn, const char* fragment) {
    try {
      fn();
      ADD_FAILURE() << "expected an OpError mentioning " << fragment;
    } catch (const ops::OpError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("group_norm"), std::string::npos) << e.what();
    }
  };
  expect_error([&] { ops::group_norm(ts.s, x, g6, g6, 4, 1e-5f); }, "[2, 6, 4, 4]");       // 4 does not divide 6
  expect_error([&] { ops::group_norm(ts.s, x, g5, g6, 3, 1e-5f); }, "[5]");                // gamma shape
  expect_error([&] { ops::group_norm(ts.s, x, g6, g6, 0, 1e-5f); }, "groups=0");
  expect_error([&] { ops::group_norm(ts.s, x.reshape({192}), g6, g6, 3, 1e-5f); }, "[192]");  // rank 1
  if (ctx.caps().fp16_storage) {
    Tensor h6 = Tensor::empty(ctx, {6}, DType::F16);
    expect_error([&] { ops::group_norm(ts.s, x, h6, g6, 3, 1e-5f); }, "f16");  // mixed dtypes
  }
}

// ---------------------------------------------------------------------------------------------
struct LayerNormCase {
  Shape x;
  float eps;
  float offset;
  bool big;
};

std::string ln_params(const LayerNormCase& c, const Precision& p) {
  std::ostringstream os;
  os << "layer_norm x=" << shape_str(c.x) << " eps=" << c.eps << " offset=" << c.offset << " " << p.name;
  return os.str();
}

std::vector<LayerNormCase> layer_norm_cases() {
  std::vector<LayerNormCase> all = {
      {{5, 3}, 1e-5f, 0.0f, false},       // C odd and tiny
      {{4, 1}, 1e-5f, 0.0f, false},       // C = 1: output = beta
      {{3, 7, 33}, 1e-5f, 20.0f, false},  // mean >> std
      {{6, 1000}, 1e-6f, 0.0f, false},    // C not a multiple of the workgroup
      {{2, 20000}, 1e-5f, 1.0f, false},   // too long for registers: the GroupNorm path
      {{7}, 1e-5f, 0.0f, false},          // rank 1
      // SD1.5: CLIP text model (77 tokens, width 768), UNet transformer at 64x64 (width 320)
      {{2, 77, 768}, 1e-5f, 0.0f, false},
      {{2, 4096, 320}, 1e-5f, 0.0f, false},
  };
  std::vector<LayerNormCase> out;
  for (auto& c : all)
    if (!(quick() && c.big)) out.push_back(c);
  return out;
}

class LayerNormTest : public ::testing::TestWithParam<std::tuple<LayerNormCase, Precision>> {};

TEST_P(LayerNormTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  bool f16 = prec.dtype == DType::F16;
  int64_t n = shape_numel(c.x), C = c.x.back(), rows = n / C;
  const auto& xv = inputs(size_t(n), 31, 1.5f, c.offset, f16);
  auto gv = random_normal(size_t(C), 32, 0.5f, f16);
  for (auto& g : gv) g = f16 ? half_to_float(float_to_half(g + 1.0f)) : g + 1.0f;
  auto bv = random_normal(size_t(C), 33, 0.5f, f16);
  Tensor x = from_host(ts.s, c.x, prec.dtype, xv);
  Tensor gamma = from_host(ts.s, {C}, prec.dtype, gv);
  Tensor beta = from_host(ts.s, {C}, prec.dtype, bv);
  Tensor y = ops::layer_norm(ts.s, x, gamma, beta, c.eps);
  ASSERT_EQ(y.shape(), c.x);
  auto got = to_host(ts.s, y);
  // Whole rows: all of them for small tensors, a sample of rows for big ones.
  auto rix = sample_indices(rows, n <= kFullCompare ? rows : std::max<int64_t>(1, kSamples / C), 34);
  std::vector<int64_t> idx;
  std::vector<double> want;
  std::vector<double> row(static_cast<size_t>(C));
  for (int64_t r : rix) {
    ref::layer_norm_row(xv, gv, bv, C, r, c.eps, row.data());
    for (int64_t i = 0; i < C; ++i) {
      idx.push_back(r * C + i);
      want.push_back(row[size_t(i)]);
    }
  }
  EXPECT_TRUE(close_nmse_at(got, idx, want, norm_tolerance(prec), ln_params(c, prec)));
}

INSTANTIATE_TEST_SUITE_P(Shapes, LayerNormTest,
                         ::testing::Combine(::testing::ValuesIn(layer_norm_cases()),
                                            ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return "case" + std::to_string(info.index / precisions().size()) + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

TEST(LayerNormErrors, BadOperandsThrowNamingShapes) {
  TestStream ts(precisions()[0]);
  auto& ctx = context();
  Tensor x = Tensor::empty(ctx, {2, 5, 8}, DType::F32);
  Tensor g8 = Tensor::empty(ctx, {8}, DType::F32), g5 = Tensor::empty(ctx, {5}, DType::F32);
  for (auto [gamma, beta] : {std::pair{&g5, &g8}, std::pair{&g8, &g5}}) {
    try {
      ops::layer_norm(ts.s, x, *gamma, *beta, 1e-5f);
      ADD_FAILURE() << "expected an OpError";
    } catch (const ops::OpError& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("layer_norm"), std::string::npos) << m;
      EXPECT_NE(m.find("[2, 5, 8]"), std::string::npos) << m;
      EXPECT_NE(m.find("[5]"), std::string::npos) << m;
    }
  }
  Tensor xi = Tensor::empty(ctx, {2, 8}, DType::I32);
  EXPECT_THROW(ops::layer_norm(ts.s, xi, g8, g8, 1e-5f), ops::OpError);
}

}  // namespace
}  // namespace vkdream::test
