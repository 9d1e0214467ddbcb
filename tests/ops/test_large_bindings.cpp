// Ops on tensors larger than one storage binding: a second context whose binding range is lowered to 160 KiB
// (vk::ContextOptions::max_binding_bytes, as VKDREAM_MAX_BINDING_BYTES does) makes small tensors take the
// split paths that a 512x512 VAE decode takes on lavapipe (128 MiB). Each op's split result is compared with
// the unsplit result on the shared context (bit-exact where the arithmetic is the same) or with its CPU
// reference (conv2d's direct kernel split over input channels adds partial sums, so it rounds differently).
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "ops/conv2d.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/norm.h"
#include "ops/resize.h"
#include "reference/gemm_ref.h"
#include "reference/layout_ref.h"
#include "reference/norm_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

constexpr uint64_t kLimit = 160 * 1024;

vk::Context& small_context() {
  static std::unique_ptr<vk::Context> ctx = [] {
    vk::ContextOptions o;
    o.max_binding_bytes = kLimit;
    return std::make_unique<vk::Context>(o);
  }();
  return *ctx;
}

// A stream on the shared context and one on the lowered context, with the precision's arithmetic.
struct Streams {
  explicit Streams(const Precision& p) : big(context()), small(small_context()) {
    big.set_f16_arithmetic(p.f16_arithmetic);
    small.set_f16_arithmetic(p.f16_arithmetic);
  }
  vk::Stream big, small;
};

size_t bytes(const Shape& s, DType dt) { return size_t(shape_numel(s)) * dtype_size(dt); }

// The max |a - b| (0 when bit-equal in value), printed so the log records it.
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  EXPECT_EQ(a.size(), b.size()) << what;
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
  std::printf("[large_bindings] %s: max |split - unsplit| = %.3g\n", what.c_str(), m);
  return m;
}

class LargeBindings : public ::testing::TestWithParam<Precision> {};

TEST_P(LargeBindings, ContextOptionLowersTheBindingRange) {
  EXPECT_EQ(small_context().caps().max_storage_buffer_range, kLimit);
  EXPECT_GT(context().caps().max_storage_buffer_range, kLimit);
}

TEST_P(LargeBindings, UpsampleNearest2xSplitsOverPlanes) {
  const Precision prec = GetParam();
  Streams st(prec);
  const Shape xs{2, 6, 64, 64};  // out 2 x 6 planes of 16 KiB (f32): 768 KiB
  ASSERT_GT(bytes({2, 6, 128, 128}, prec.dtype), kLimit);
  auto xv = random_normal(size_t(shape_numel(xs)), 1, 1.0f, prec.dtype == DType::F16);
  auto got = to_host(st.small, ops::upsample_nearest2x(st.small, from_host(st.small, xs, prec.dtype, xv)));
  EXPECT_TRUE(close_nmse(got, ref_upsample_nearest2x(xv, xs), 0.0, std::string("upsample_nearest2x split ") + prec.name));
}

TEST_P(LargeBindings, ResizeSplitsOverPlanes) {
  const Precision prec = GetParam();
  Streams st(prec);
  const Shape xs{1, 5, 60, 70};
  auto xv = random_normal(size_t(shape_numel(xs)), 2, 1.0f, prec.dtype == DType::F16);
  for (auto mode : {ops::ResizeMode::kBilinear, ops::ResizeMode::kArea}) {
    auto got = to_host(st.small, ops::resize(st.small, from_host(st.small, xs, prec.dtype, xv), 130, 90, mode));
    auto want = to_host(st.big, ops::resize(st.big, from_host(st.big, xs, prec.dtype, xv), 130, 90, mode));
    EXPECT_EQ(max_abs_diff(got, want, std::string("resize ") + ops::resize_mode_name(mode) + " " + prec.name), 0.0);
  }
}

TEST_P(LargeBindings, GroupNormSplitsOverGroups) {
  const Precision prec = GetParam();
  Streams st(prec);
  const bool f16 = prec.dtype == DType::F16;
  const Shape xs{1, 64, 64, 64};  // 1 MiB in f32; a group (2 channels) 32 KiB
  auto xv = random_normal(size_t(shape_numel(xs)), 3, 2.0f, f16);
  auto gv = random_normal(64, 4, 1.0f, f16), bv = random_normal(64, 5, 1.0f, f16);
  for (bool silu : {false, true}) {
    auto run = [&](vk::Stream& s) {
      Tensor x = from_host(s, xs, prec.dtype, xv), g = from_host(s, {64}, prec.dtype, gv), b = from_host(s, {64}, prec.dtype, bv);
      return to_host(s, ops::group_norm(s, x, g, b, 32, 1e-6f, silu));
    };
    auto got = run(st.small);
    EXPECT_EQ(max_abs_diff(got, run(st.big), std::string("group_norm silu=") + (silu ? "1 " : "0 ") + prec.name), 0.0);
    auto stats = ref::group_norm_stats(xv, 1, 64, 64 * 64, 32, 1e-6);
    auto idx = sample_indices(int64_t(got.size()), 4000, 6);
    std::vector<double> want(idx.size());
    for (size_t k = 0; k < idx.size(); ++k) want[k] = ref::group_norm_at(xv, stats, gv, bv, 64, 64 * 64, 32, silu, idx[k]);
    EXPECT_TRUE(close_nmse_at(got, idx, want, f16 ? 1e-6 : 1e-11, "group_norm split"));
  }
}

struct ConvCase {
  const char* name;
  int64_t N, C, H, W, O, k;
  int stride, padding, pad_after;
  bool bias, residual;
  bool exact;  // the split changes no arithmetic (no partial sums)
};

// On lavapipe, K = C*k*k % 8 == 0 runs im2col + the texel GEMM (3x3 stride 1 in f32 with C % 8 == 0 and 512+
// output pixels: Winograd), otherwise the direct (implicit GEMM) kernel.
std::vector<ConvCase> conv_cases() {
  return {
      // texel path: x 288 KiB (im2col in 2 channel blocks), out 432 KiB (output channel blocks), pixel chunks;
      // in f32 Winograd: x read in windows of channel planes, out written in windows of output channels
      {"texel3x3", 1, 32, 48, 48, 48, 3, 1, 1, 0, true, true, true},
      // Winograd F(2x2) (f32; F(4x4) needs 32 tiles of 4x4): x and out fit, V_r/M_r do not (80 tiles of 160
      // channels): chunks of 32, 32 and 16 tiles, the first ending inside the second image
      {"winograd_chunks", 4, 160, 7, 9, 16, 3, 1, 1, 0, true, true, true},
      // the same with 4 | Wo (two tiles per output invocation) and an odd Ho: 96 tiles, chunks of 64 and 32
      {"winograd_chunks_w4", 4, 120, 7, 12, 16, 3, 1, 1, 0, true, true, true},
      // F(4x4): its V_r and M_r are smaller than x and out (36 values per 16 pixels), so they only take chunks
      // where x and out go image by image in windows: each image's 100 tiles in chunks of 96 and 4
      {"winograd4_chunks", 2, 64, 40, 40, 16, 3, 1, 1, 0, true, true, true},
      // the weights (184 KiB) transformed in blocks of output channels, by F(2x2) and by F(4x4)
      {"winograd_weight_blocks", 1, 64, 12, 12, 80, 3, 1, 1, 0, true, false, true},
      {"winograd4_weight_blocks", 2, 64, 16, 16, 80, 3, 1, 1, 0, true, false, true},
      // F(2x2) with x (162 KiB), then out (400 KiB), in windows
      {"winograd_x_windows2", 1, 128, 18, 18, 8, 3, 1, 1, 0, true, true, true},
      {"winograd_out_windows2", 1, 8, 20, 20, 256, 3, 1, 1, 0, true, true, true},
      // F(4x4): two images with only out (and the residual) in windows, then only x: the whole operand keeps its
      // absolute image offsets while the other is windowed image by image
      {"winograd_out_windows", 2, 8, 24, 24, 160, 3, 1, 1, 0, true, true, true},
      {"winograd_x_windows", 2, 64, 24, 24, 8, 3, 1, 1, 0, true, true, true},
      // x windows of fewer than 8 channel planes (80x80: 6 fit): the input transform takes 4 channels at a time
      {"winograd_x_windows4", 1, 8, 80, 80, 8, 3, 1, 1, 0, true, true, true},
      {"texel1x1_batch", 2, 64, 40, 40, 24, 1, 1, 0, 0, true, true, true},
      {"texel_down", 1, 32, 64, 64, 32, 3, 2, 0, 1, true, false, true},
      // direct path: out blocks only (C*k*k = 81; below 8 channels the texel path takes them, zero-padded), and
      // input-channel blocks
      {"direct_out_blocks", 1, 9, 64, 64, 40, 3, 1, 1, 0, true, true, true},
      {"direct_in_blocks", 1, 21, 64, 64, 20, 3, 1, 1, 0, true, true, false},
  };
}

class LargeConv : public ::testing::TestWithParam<std::tuple<ConvCase, Precision>> {};

TEST_P(LargeConv, SplitMatchesUnsplitAndReference) {
  auto [c, prec] = GetParam();
  Streams st(prec);
  const bool f16 = prec.dtype == DType::F16;
  Conv2dRefArgs r;
  r.N = c.N, r.C = c.C, r.H = c.H + c.pad_after, r.W = c.W + c.pad_after, r.O = c.O, r.kh = c.k, r.kw = c.k;
  r.stride = c.stride, r.padding = c.padding;
  Shape xs{c.N, c.C, c.H, c.W}, ws{c.O, c.C, c.k, c.k}, os{c.N, c.O, r.Ho(), r.Wo()};
  if (std::string(c.name).rfind("winograd", 0) != 0) ASSERT_TRUE(bytes(xs, prec.dtype) > kLimit || bytes(os, prec.dtype) > kLimit);
  auto xv = random_normal(size_t(shape_numel(xs)), 11, 1.0f, f16);
  auto wv = random_normal(size_t(shape_numel(ws)), 12, 0.1f, f16);
  auto biasv = random_normal(size_t(c.O), 13, 1.0f, f16);
  auto resv = random_normal(size_t(shape_numel(os)), 14, 1.0f, f16);
  auto run = [&](vk::Stream& s) {
    Tensor x = from_host(s, xs, prec.dtype, xv), w = from_host(s, ws, prec.dtype, wv);
    Tensor b = c.bias ? from_host(s, {c.O}, prec.dtype, biasv) : Tensor();
    Tensor res = c.residual ? from_host(s, os, prec.dtype, resv) : Tensor();
    s.submit();
    Tensor out = ops::conv2d(s, x, w, c.bias ? &b : nullptr, {c.stride, c.padding, c.pad_after}, c.residual ? &res : nullptr);
    uint32_t dispatches = s.pending();
    EXPECT_EQ(out.shape(), os);
    auto v = to_host(s, out);
    return std::make_pair(v, dispatches);
  };
  auto [got, n_small] = run(st.small);
  auto [want_gpu, n_big] = run(st.big);
  EXPECT_GT(n_small, n_big) << "the lowered binding range should split the conv into more dispatches";
  std::string what = std::string("conv2d ") + c.name + " " + prec.name;
  double d = max_abs_diff(got, want_gpu, what);
  if (c.exact) EXPECT_EQ(d, 0.0) << what;
  // The reference reads the bottom/right padding as zeros: pad x on the host.
  std::vector<float> xp(size_t(r.N * r.C * r.H * r.W), 0.0f);
  for (int64_t i = 0; i < c.N * c.C; ++i)
    for (int64_t y = 0; y < c.H; ++y)
      for (int64_t x = 0; x < c.W; ++x) xp[size_t((i * r.H + y) * r.W + x)] = xv[size_t((i * c.H + y) * c.W + x)];
  r.bias = c.bias ? &biasv : nullptr, r.residual = c.residual ? &resv : nullptr;
  auto idx = sample_indices(int64_t(got.size()), 3000, 9);
  std::vector<double> want(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) want[i] = conv2d_ref_at(r, xp, wv, idx[i]);
  // As tests/ops/test_conv2d.cpp; partial sums stored in f16 between input-channel blocks cost one more rounding.
  EXPECT_TRUE(close_nmse_at(got, idx, want, f16 ? (c.exact ? 1e-6 : 4e-6) : 1e-11, what));
}

INSTANTIATE_TEST_SUITE_P(Split, LargeConv, ::testing::Combine(::testing::ValuesIn(conv_cases()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) + "_" + precision_name(std::get<1>(info.param));
                         });

TEST_P(LargeBindings, ElementwiseSplitsOverWindows) {
  const Precision prec = GetParam();
  Streams st(prec);
  const bool f16 = prec.dtype == DType::F16;
  const Shape xs{3, 5, 60, 70};  // 246 KiB in f32
  auto av = random_normal(size_t(shape_numel(xs)), 21, 1.0f, f16), bv = random_normal(size_t(shape_numel(xs)), 22, 1.0f, f16);
  const Shape bs{3, 5, 1, 70};  // broadcast along H
  auto cv = random_normal(size_t(shape_numel(bs)), 23, 1.0f, f16);
  auto run = [&](vk::Stream& s) {
    Tensor a = from_host(s, xs, prec.dtype, av), b = from_host(s, xs, prec.dtype, bv), c = from_host(s, bs, prec.dtype, cv);
    std::vector<std::vector<float>> out;
    out.push_back(to_host(s, ops::affine_clamp(s, a, 0.5f, 0.5f, 0.0f, 1.0f)));
    out.push_back(to_host(s, ops::lincomb(s, {{0.25, &a}, {-1.5, &b}, {2.0, &a}}, 0.125)));
    out.push_back(to_host(s, ops::binary(s, ops::BinaryOp::kSub, a, b, 2.0f)));
    out.push_back(to_host(s, ops::mul(s, a, c)));
    // An unaligned view: the op binds an aligned window and offsets into it.
    Tensor v = a.reshape({int64_t(shape_numel(xs))}).slice0(3, shape_numel(xs) - 3);
    out.push_back(to_host(s, ops::affine_clamp(s, v, 2.0f, 0.0f, -1.0f, 1.0f)));
    return out;
  };
  auto got = run(st.small), want = run(st.big);
  const char* names[] = {"affine_clamp", "lincomb", "binary", "binary broadcast", "affine_clamp view"};
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(max_abs_diff(got[i], want[i], std::string(names[i]) + " " + prec.name), 0.0);
}

INSTANTIATE_TEST_SUITE_P(Precisions, LargeBindings, ::testing::ValuesIn(precisions()),
                         [](const auto& info) { return precision_name(info.param); });

}  // namespace
}  // namespace vkdream::test
