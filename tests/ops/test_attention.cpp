// Attention against a double-precision CPU reference (sampled query rows for big shapes).
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <utility>

#include "ops/attention.h"
#include "ops/matmul.h"
#include "reference/attention_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

struct AttnCase {
  int64_t B, Lq, Lk, H, D;
  bool causal;
  float scale;       // 0: 1/sqrt(D)
  int64_t samples;   // query rows checked per (batch, head); 0: all
  bool big;          // skipped when quick()
};

std::string case_str(const AttnCase& c, const char* prec) {
  std::ostringstream os;
  os << "attention B=" << c.B << " Lq=" << c.Lq << " Lk=" << c.Lk << " heads=" << c.H << " D=" << c.D
     << " causal=" << c.causal << " scale=" << c.scale << " " << prec;
  return os.str();
}

double tolerance(const char* prec) {
  // Measured nmse: f32 ~1e-13; f16 storage ~1e-7 (output rounding); f16a the same kernel.
  return std::string(prec) == "f32" ? 1e-10 : 2e-6;
}

std::vector<AttnCase> cases() {
  std::vector<AttnCase> out = {
      {1, 1, 1, 1, 1, false, 0, 0, false},     // smallest
      {1, 5, 1, 1, 3, false, 0, 0, false},     // Lk = 1
      {2, 7, 13, 3, 3, false, 0, 0, false},    // odd everything
      {1, 17, 9, 2, 40, false, 0, 0, false},   // Lq != Lk
      {1, 9, 70, 2, 1, true, 0, 0, false},     // causal, D = 1, two key tiles
      {1, 33, 50, 1, 80, true, 0, 0, false},   // causal, Lq != Lk
      {1, 13, 48, 2, 8, true, 0, 0, false},    // causal, Lk % 4 == 0: softmax_texel masks inside a texel
      {1, 20, 30, 2, 16, false, 0.5f, 0, false},  // explicit scale
      {1, 77, 77, 1, 64, true, 0, 0, false},   // tiny CLIP
      {2, 77, 77, 12, 64, true, 0, 16, false}, // CLIP ViT-L
      {2, 64, 64, 8, 4, false, 0, 0, false},   // tiny UNet head dim 4
      {2, 16, 77, 8, 8, false, 0, 0, false},   // tiny UNet cross-attention, head dim 8
      {1, 40, 40, 2, 160, false, 0, 0, false},  // SD1.5 level-2 head dim 160
      {2, 256, 77, 8, 40, false, 0, 32, false},  // SD1.5 cross-attention (rows sampled)
      {2, 1024, 1024, 8, 40, false, 0, 32, true},  // SD1.5 self-attention at 256x256 (two blocks)
      {2, 1024, 77, 8, 80, false, 0, 32, true},    // SD1.5 cross-attention, head dim 80
  };
  std::vector<AttnCase> keep;
  for (auto& c : out)
    if (!c.big || !quick()) keep.push_back(c);
  return keep;
}

class AttentionTest : public ::testing::TestWithParam<std::tuple<AttnCase, Precision>> {};

TEST_P(AttentionTest, MatchesReference) {
  auto [c, prec] = GetParam();
  TestStream ts(prec);
  const bool f16 = prec.dtype == DType::F16;
  const int64_t hd = c.H * c.D;
  auto qv = random_normal(size_t(c.B * c.Lq * hd), 11, 1.0f, f16);
  auto kv = random_normal(size_t(c.B * c.Lk * hd), 12, 1.0f, f16);
  auto vv = random_normal(size_t(c.B * c.Lk * hd), 13, 1.0f, f16);
  Tensor q = from_host(ts.s, {c.B, c.Lq, hd}, prec.dtype, qv);
  Tensor k = from_host(ts.s, {c.B, c.Lk, hd}, prec.dtype, kv);
  Tensor v = from_host(ts.s, {c.B, c.Lk, hd}, prec.dtype, vv);
  Tensor out = ops::attention(ts.s, q, k, v, int(c.H), c.causal, c.scale);
  ASSERT_EQ(out.shape(), q.shape());
  auto got = to_host(ts.s, out);
  AttnDims a{c.B, c.Lq, c.Lk, c.H, c.D, c.causal, c.scale > 0 ? double(c.scale) : 1.0 / std::sqrt(double(c.D))};
  std::vector<int64_t> idx;
  std::vector<double> want;
  auto rows = c.samples ? sample_indices(c.Lq, c.samples, 7) : sample_indices(c.Lq, c.Lq, 7);
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.H; ++h)
      for (int64_t i : rows) {
        auto r = attention_ref_row(a, qv, kv, vv, b, i, h);
        for (int64_t d = 0; d < c.D; ++d) {
          idx.push_back((b * c.Lq + i) * hd + h * c.D + d);
          want.push_back(r[size_t(d)]);
        }
      }
  EXPECT_TRUE(close_nmse_at(got, idx, want, tolerance(prec.name), case_str(c, prec.name)));
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionTest, ::testing::Combine(::testing::ValuesIn(cases()),
                                                                   ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           const auto& c = std::get<0>(info.param);
                           return "B" + std::to_string(c.B) + "_Lq" + std::to_string(c.Lq) + "_Lk" +
                                  std::to_string(c.Lk) + "_H" + std::to_string(c.H) + "_D" + std::to_string(c.D) +
                                  (c.causal ? "_causal" : "") + (c.scale > 0 ? "_scaled" : "") + "_" +
                                  precision_name(std::get<1>(info.param));
                         });

void expect_error(const Shape& qs, const Shape& ks, const Shape& vs, int heads, const std::string& needle) {
  TestStream ts(precisions()[0]);
  Tensor q = Tensor::empty(context(), qs, DType::F32);
  Tensor k = Tensor::empty(context(), ks, DType::F32);
  Tensor v = Tensor::empty(context(), vs, DType::F32);
  try {
    ops::attention(ts.s, q, k, v, heads);
    FAIL() << "expected an error for " << needle;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("attention"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(AttentionErrors, BadShapesNameOperands) {
  expect_error({2, 8, 64}, {2, 9, 64}, {2, 10, 64}, 1, "[2, 10, 64]");   // k/v differ
  expect_error({2, 8, 64}, {1, 9, 64}, {1, 9, 64}, 1, "[1, 9, 64]");     // batch differs
  expect_error({2, 8, 64}, {2, 9, 32}, {2, 9, 32}, 1, "[2, 9, 32]");     // channels differ
  expect_error({2, 8, 64}, {2, 9, 64}, {2, 9, 64}, 3, "heads 3");        // not divisible
  expect_error({8, 64}, {9, 64}, {9, 64}, 1, "[8, 64]");                 // rank
}

// keys: only the first `keys` keys count. The others hold large values that would dominate the softmax and the
// output if they were used; padded to a multiple of 8 (80 of which 77 count, a text context's padding) and not
// (21 of which 19 count: the op pads to 24 itself). Keys past Lk are an error.
TEST(AttentionKeys, KeysPastTheCountAreLeftOut) {
  for (auto [Lk, keys] : {std::pair<int64_t, int64_t>{80, 77}, {21, 19}}) {
    TestStream ts(precisions()[0]);
    const int64_t B = 2, Lq = 13, H = 2, D = 8, hd = H * D;
    auto qv = random_normal(size_t(B * Lq * hd), 31);
    auto kv = random_normal(size_t(B * Lk * hd), 32, 30.0f), vv = random_normal(size_t(B * Lk * hd), 33, 30.0f);
    std::vector<float> kc, vc;  // the counted keys only, [B, keys, hd]
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < keys; ++j)
        for (int64_t c = 0; c < hd; ++c) {
          const size_t at = size_t((b * Lk + j) * hd + c);
          kv[at] /= 30.0f, vv[at] /= 30.0f;
          kc.push_back(kv[at]), vc.push_back(vv[at]);
        }
    Tensor q = from_host(ts.s, {B, Lq, hd}, DType::F32, qv);
    Tensor k = from_host(ts.s, {B, Lk, hd}, DType::F32, kv), v = from_host(ts.s, {B, Lk, hd}, DType::F32, vv);
    auto got = to_host(ts.s, ops::attention(ts.s, q, k, v, int(H), false, 0.0f, keys));
    AttnDims a{B, Lq, keys, H, D, false, 1.0 / std::sqrt(double(D))};
    std::vector<double> want(got.size());
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < Lq; ++i) {
          auto r = attention_ref_row(a, qv, kc, vc, b, i, h);
          for (int64_t d = 0; d < D; ++d) want[size_t((b * Lq + i) * hd + h * D + d)] = r[size_t(d)];
        }
    EXPECT_TRUE(close_nmse(got, want, 1e-11, "attention, " + std::to_string(keys) + " of " + std::to_string(Lk) + " keys"));
    EXPECT_THROW(ops::attention(ts.s, q, k, v, int(H), false, 0.0f, Lk + 1), std::invalid_argument);
  }
}

TEST(AttentionErrors, MixedDtypes) {
  TestStream ts(precisions()[0]);
  if (!context().caps().fp16_storage) return;
  Tensor q = Tensor::empty(context(), {1, 4, 8}, DType::F32);
  Tensor k = Tensor::empty(context(), {1, 4, 8}, DType::F16);
  EXPECT_THROW(ops::attention(ts.s, q, k, k, 1), std::invalid_argument);
}

}  // namespace
}  // namespace vkdream::test

namespace vkdream::test {
namespace {

// Small score budgets force many query blocks; causal blocks must keep their query numbering.
TEST(AttentionBlocks, BlockedEqualsUnblocked) {
  for (bool causal : {false, true}) {
    TestStream ts(precisions()[0]);
    const int64_t B = 2, L = 45, H = 3, D = 8;
    Tensor q = from_host(ts.s, {B, L, H * D}, DType::F32, random_normal(size_t(B * L * H * D), 21));
    Tensor k = from_host(ts.s, {B, L, H * D}, DType::F32, random_normal(size_t(B * L * H * D), 22));
    Tensor v = from_host(ts.s, {B, L, H * D}, DType::F32, random_normal(size_t(B * L * H * D), 23));
    auto whole = to_host(ts.s, ops::attention(ts.s, q, k, v, int(H), causal));
    uint64_t old = ops::set_attention_score_budget(uint64_t(B * H * L * 4) * 7);  // 7 query rows per block
    auto blocked = to_host(ts.s, ops::attention(ts.s, q, k, v, int(H), causal));
    ops::set_attention_score_budget(old);
    std::vector<double> want(whole.begin(), whole.end());
    EXPECT_TRUE(close_nmse(blocked, want, 1e-12, causal ? "blocked causal" : "blocked"));
  }
}

// 512+ keys: the transposed P V writes each block's columns of O^T in place; blocks of 100 rows (taken as 96:
// chunks that start 32-byte aligned) and of 7 (chunk starts no binding may have: concatenated instead).
TEST(AttentionBlocks, LongBlocksWrittenInPlaceEqualUnblocked) {
  TestStream ts(precisions()[0]);
  const int64_t B = 1, L = 520, H = 2, D = 8;
  Tensor q = from_host(ts.s, {B, L, H * D}, DType::F32, random_normal(size_t(B * L * H * D), 24));
  Tensor k = from_host(ts.s, {B, L, H * D}, DType::F32, random_normal(size_t(B * L * H * D), 25));
  Tensor v = from_host(ts.s, {B, L, H * D}, DType::F32, random_normal(size_t(B * L * H * D), 26));
  auto whole = to_host(ts.s, ops::attention(ts.s, q, k, v, int(H)));
  std::vector<double> want(whole.begin(), whole.end());
  for (int64_t block : {100, 7}) {
    uint64_t old = ops::set_attention_score_budget(uint64_t(B * H * L * 4) * uint64_t(block));
    auto blocked = to_host(ts.s, ops::attention(ts.s, q, k, v, int(H)));
    ops::set_attention_score_budget(old);
    EXPECT_TRUE(close_nmse(blocked, want, 1e-12, "blocks of " + std::to_string(block) + " rows"));
  }
}


// projected_attention = attention(linear(x, Wq), linear(ctx, Wk), linear(ctx, Wv)): on lavapipe the projections
// store the heads split (and V^T) themselves; self- and cross-attention (80 keys of which 77 count), a long one
// (520 keys: the transposed P V), and contexts the fused path does not take (77 keys, f16) must all agree.
TEST(ProjectedAttention, EqualsLinearThenAttention) {
  struct Case {
    int64_t B, Lq, Lk, C, Cc, H, D, keys;
    bool self;
  };
  for (const Case& c : {Case{2, 64, 64, 32, 32, 4, 8, 0, true}, Case{2, 16, 80, 32, 48, 2, 16, 77, false},
                        Case{1, 520, 520, 16, 16, 2, 8, 0, true}, Case{2, 12, 77, 24, 40, 3, 8, 0, false}})
    for (const Precision& prec : precisions()) {
      SCOPED_TRACE("B " + std::to_string(c.B) + " Lq " + std::to_string(c.Lq) + " Lk " + std::to_string(c.Lk) +
                   " heads " + std::to_string(c.H) + " " + prec.name);
      TestStream ts(prec);
      const bool f16 = prec.dtype == DType::F16;
      const int64_t hd = c.H * c.D;
      Tensor x = from_host(ts.s, {c.B, c.Lq, c.C}, prec.dtype, random_normal(size_t(c.B * c.Lq * c.C), 31, 1.0f, f16));
      Tensor ctx = c.self ? x : from_host(ts.s, {c.B, c.Lk, c.Cc}, prec.dtype,
                                          random_normal(size_t(c.B * c.Lk * c.Cc), 32, 1.0f, f16));
      Tensor wq = from_host(ts.s, {hd, c.C}, prec.dtype, random_normal(size_t(hd * c.C), 33, 0.3f, f16));
      Tensor wk = from_host(ts.s, {hd, c.Cc}, prec.dtype, random_normal(size_t(hd * c.Cc), 34, 0.3f, f16));
      Tensor wv = from_host(ts.s, {hd, c.Cc}, prec.dtype, random_normal(size_t(hd * c.Cc), 35, 0.3f, f16));
      auto got = to_host(ts.s, ops::projected_attention(ts.s, x, ctx, wq, wk, wv, int(c.H), c.keys));
      Tensor q = ops::linear(ts.s, x, wq, nullptr), k = ops::linear(ts.s, ctx, wk, nullptr);
      Tensor v = ops::linear(ts.s, ctx, wv, nullptr);
      auto want = to_host(ts.s, ops::attention(ts.s, q, k, v, int(c.H), false, 0.0f, c.keys));
      ASSERT_EQ(got.size(), size_t(c.B * c.Lq * hd));
      EXPECT_TRUE(close_nmse(got, std::vector<double>(want.begin(), want.end()), 1e-12, "projected attention"));
    }
}

}  // namespace
}  // namespace vkdream::test
