// ComfyUI's conditioning semantics in guided_denoiser (process_conds + calc_cond_batch + CFG)
// against a double-precision CPU reference of comfy/samplers.py, on a small fake UNet (one
// cross-attention over the context plus a timestep-dependent skip) whose CPU twin is exact:
// combined entries, strength, areas with feathering and their uncond partners, percentage areas
// (Python rounding), masks (resized, mask_strength, batches, bounds), timestep ranges, token
// lengths that can / cannot share a batch, cfg 1, the uncond output for CFG++ samplers.
#include <gtest/gtest.h>

#include <cmath>

#include "sampling/cfg.h"
#include "sampling/cond_reference.h"
#include "sampling/conditioning.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

using sampling::CondEntry;
using sampling::Conditioning;

const sampling::ModelSamplingDiscrete& ms() {
  static sampling::ModelSamplingDiscrete m;
  return m;
}

// A context [batch, L, 4] on the device and its reference twin.
struct Ctx {
  Tensor t;
  RefTensor ref;
};
Ctx make_ctx(vk::Stream& s, int64_t L, uint32_t seed, int64_t batch = 1) {
  auto v = random_normal(size_t(batch * L * kFakeChannels), seed, 1.5f);
  return {from_host(s, {batch, L, kFakeChannels}, DType::F32, v), ref_from(v, {batch, L, kFakeChannels})};
}

struct Latent {
  Tensor t;
  RefTensor ref;
};
Latent make_x(vk::Stream& s, int64_t b, int64_t h, int64_t w, uint32_t seed) {
  auto v = random_normal(size_t(b * kFakeChannels * h * w), seed, 3.0f);
  return {from_host(s, {b, kFakeChannels, h, w}, DType::F32, v), ref_from(v, {b, kFakeChannels, h, w})};
}

CondEntry entry(const Ctx& c) {
  CondEntry e;
  e.cross_attn = c.t;
  return e;
}
RefCond ref_entry(const Ctx& c) {
  RefCond r;
  r.ctx = c.ref;
  return r;
}

// Runs the guided denoiser once and compares with the reference (after pairing the areas).
struct Run {
  std::vector<std::pair<int, Shape>> calls;  // (entries, x_in shape) per UNet call
  std::vector<float> out, uncond;
};
Run run_guided(vk::Stream& s, const Conditioning& pos, const Conditioning& neg, const Tensor& x, float sigma, double cfg,
               bool want_uncond = false, int max_batch = 0) {
  Run r;
  sampling::CondBatchOptions opt;
  opt.max_batch_entries = max_batch;
  opt.on_model_call = [&](int n, const Shape& sh) { r.calls.push_back({n, sh}); };
  auto d = sampling::guided_denoiser(fake_eps(), ms(), pos, neg, cfg, opt);
  Tensor unc;
  Tensor out = d(s, x, sigma, want_uncond ? &unc : nullptr);
  r.out = to_host(s, out);
  if (want_uncond) r.uncond = to_host(s, unc);
  return r;
}

RefTensor reference(std::vector<RefCond> pos, std::vector<RefCond> neg, const RefTensor& x, float sigma, double cfg,
                    bool need_uncond = false, RefTensor* uncond = nullptr) {
  ref_pair_areas(pos, neg);
  return ref_guided(pos, neg, x, double(sigma), cfg, ms(), need_uncond, uncond);
}

constexpr double kAtol = 2e-4, kRtol = 2e-4;

TEST(Conditioning, PercentToSigma) {
  const auto& m = ms();
  EXPECT_EQ(sampling::percent_to_sigma(m, 0.0), 999999999.9);
  EXPECT_EQ(sampling::percent_to_sigma(m, -0.5), 999999999.9);
  EXPECT_EQ(sampling::percent_to_sigma(m, 1.0), 0.0);
  for (double p : {0.5, 0.25, 0.9}) {
    float t = float((1.0 - p) * 999.0);
    int lo = int(std::floor(t)), hi = int(std::ceil(t));
    float w = t - std::floor(t);
    float ls = (1.0f - w) * m.log_sigmas()[size_t(lo)] + w * m.log_sigmas()[size_t(hi)];
    EXPECT_NEAR(sampling::percent_to_sigma(m, p), double(std::exp(ls)), 1e-6 * std::exp(ls)) << p;
  }
}

TEST(Conditioning, SingleEntryPerSideIsPlainCfgInOneBatch) {
  vk::Stream s(context());
  auto a = make_ctx(s, 4, 1), n = make_ctx(s, 6, 2);  // token lengths 4 and 6 share a batch at 12
  auto x = make_x(s, 1, 6, 5, 3);
  const float sigma = ms().sigmas()[600];
  auto r = run_guided(s, {entry(a)}, {entry(n)}, x.t, sigma, 7.5);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].first, 2);
  EXPECT_TRUE(ref_close(r.out, reference({ref_entry(a)}, {ref_entry(n)}, x.ref, sigma, 7.5), kAtol, kRtol, "plain cfg"));
}

TEST(Conditioning, CombinedEntriesAreWeightedByStrength) {
  vk::Stream s(context());
  auto a = make_ctx(s, 5, 11), b = make_ctx(s, 10, 12), c = make_ctx(s, 5, 13), n = make_ctx(s, 5, 14);
  auto x = make_x(s, 1, 7, 6, 15);
  const float sigma = ms().sigmas()[400];
  Conditioning pos = {entry(a), entry(b), entry(c)};
  pos[1].strength = 0.6;
  pos[2].strength = 1.3;
  auto rp = std::vector<RefCond>{ref_entry(a), ref_entry(b), ref_entry(c)};
  rp[1].strength = 0.6;
  rp[2].strength = 1.3;
  auto r = run_guided(s, pos, {entry(n)}, x.t, sigma, 6.0);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].first, 4);
  EXPECT_TRUE(ref_close(r.out, reference(rp, {ref_entry(n)}, x.ref, sigma, 6.0), kAtol, kRtol, "combine + strength"));
  // ComfyUI splits batches when memory is short; the result does not depend on it.
  auto r1 = run_guided(s, pos, {entry(n)}, x.t, sigma, 6.0, false, 1);
  EXPECT_EQ(r1.calls.size(), 4u);
  for (size_t i = 0; i < r.out.size(); ++i) ASSERT_NEAR(r1.out[i], r.out[i], 1e-4 + 1e-5 * std::abs(r.out[i])) << i;
}

TEST(Conditioning, TokenLengthsTooFarApartRunSeparately) {
  vk::Stream s(context());
  auto a = make_ctx(s, 2, 21), n = make_ctx(s, 11, 22);  // lcm 22 is 11x the shorter: no shared batch
  auto x = make_x(s, 1, 5, 5, 23);
  const float sigma = ms().sigmas()[300];
  auto r = run_guided(s, {entry(a)}, {entry(n)}, x.t, sigma, 4.0);
  EXPECT_EQ(r.calls.size(), 2u);
  EXPECT_TRUE(ref_close(r.out, reference({ref_entry(a)}, {ref_entry(n)}, x.ref, sigma, 4.0), kAtol, kRtol,
                        "token lengths 2 / 11"));
}

TEST(Conditioning, AreasAreFeatheredAndGetUncondPartners) {
  vk::Stream s(context());
  auto a = make_ctx(s, 4, 31), b = make_ctx(s, 4, 32), c = make_ctx(s, 8, 33), d = make_ctx(s, 4, 34);
  auto n = make_ctx(s, 4, 35);
  auto x = make_x(s, 1, 16, 24, 36);
  const float sigma = ms().sigmas()[700];
  Conditioning pos = {entry(a), entry(b), entry(c), entry(d)};
  pos[1].area = {{8, 8, 0, 16}};   // top right corner: feathered on the left and bottom
  pos[2].area = {{8, 12, 4, 6}};   // inside: feathered on all sides (rr 2 rows, 3 columns)
  pos[2].strength = 0.8;
  pos[3].area = {{20, 6, 8, 0}};   // reaches past the bottom: clamped to 8 rows
  std::vector<RefCond> rp = {ref_entry(a), ref_entry(b), ref_entry(c), ref_entry(d)};
  rp[1].area = pos[1].area;
  rp[2].area = pos[2].area;
  rp[2].strength = 0.8;
  rp[3].area = pos[3].area;
  auto resolved = sampling::process_conds(s, ms(), pos, {entry(n)}, 16, 24);
  ASSERT_EQ(resolved.negative.size(), 4u);  // the global negative plus one partner per area
  EXPECT_EQ(resolved.positive.size(), 4u);
  EXPECT_EQ(*resolved.negative[2].area, (std::array<int64_t, 4>{8, 12, 4, 6}));
  EXPECT_EQ(resolved.negative[2].strength, 0.8);
  auto r = run_guided(s, pos, {entry(n)}, x.t, sigma, 8.0);
  EXPECT_EQ(r.calls.size(), 4u);  // one batch per crop shape, each holding the cond and its partner
  for (auto& [k, sh] : r.calls) EXPECT_EQ(k, 2);
  EXPECT_TRUE(ref_close(r.out, reference(rp, {ref_entry(n)}, x.ref, sigma, 8.0), kAtol, kRtol, "areas"));
}

TEST(Conditioning, PercentageAreasRoundLikePython) {
  vk::Stream s(context());
  auto a = make_ctx(s, 3, 41), b = make_ctx(s, 3, 42), n = make_ctx(s, 3, 43);
  auto x = make_x(s, 1, 16, 24, 44);
  const float sigma = ms().sigmas()[500];
  Conditioning pos = {entry(a), entry(b)};
  pos[1].area_percentage = {{0.15625, 0.3125, 0.40625, 0.1875}};  // 2.5, 7.5, 6.5, 4.5 cells: half to even
  auto resolved = sampling::process_conds(s, ms(), pos, {entry(n)}, 16, 24);
  ASSERT_TRUE(resolved.positive[1].area);
  EXPECT_EQ(*resolved.positive[1].area, (std::array<int64_t, 4>{2, 8, 6, 4}));
  std::vector<RefCond> rp = {ref_entry(a), ref_entry(b)};
  rp[1].area = {{2, 8, 6, 4}};
  auto r = run_guided(s, pos, {entry(n)}, x.t, sigma, 5.0);
  EXPECT_TRUE(ref_close(r.out, reference(rp, {ref_entry(n)}, x.ref, sigma, 5.0), kAtol, kRtol, "percentage area"));
}

TEST(Conditioning, MasksAreResizedAndWeighted) {
  vk::Stream s(context());
  auto a = make_ctx(s, 4, 51), b = make_ctx(s, 4, 52), c = make_ctx(s, 6, 53), n = make_ctx(s, 4, 54),
       mneg = make_ctx(s, 4, 55);
  auto x = make_x(s, 2, 8, 12, 56);
  const float sigma = ms().sigmas()[800];
  auto mb = random_uniform(5 * 7, 57, 0.0f, 1.0f);             // [1, 5, 7] -> 8 x 12
  auto mc = random_uniform(2 * 8 * 12, 58, 0.0f, 1.0f);        // [2, 8, 12] at the latent size
  auto mn = random_uniform(2 * 3 * 3, 59, 0.0f, 1.0f);         // [2, 3, 3] -> 8 x 12
  Conditioning pos = {entry(a), entry(b), entry(c)};
  pos[1].mask = from_host(s, {1, 5, 7}, DType::F32, mb);
  pos[1].mask_strength = 0.7;
  pos[1].strength = 1.5;
  pos[2].mask = from_host(s, {2, 8, 12}, DType::F32, mc);
  pos[2].area = {{4, 6, 2, 3}};  // mask cropped to the area, no feathering
  Conditioning neg = {entry(n), entry(mneg)};
  neg[1].mask = from_host(s, {2, 3, 3}, DType::F32, mn);
  neg[1].strength = 0.5;
  std::vector<RefCond> rp = {ref_entry(a), ref_entry(b), ref_entry(c)};
  rp[1].mask = ref_bilinear(ref_from(mb, {1, 5, 7}), 8, 12);
  rp[1].mask_strength = 0.7;
  rp[1].strength = 1.5;
  rp[2].mask = ref_from(mc, {2, 8, 12});
  rp[2].area = pos[2].area;
  std::vector<RefCond> rn = {ref_entry(n), ref_entry(mneg)};
  rn[1].mask = ref_bilinear(ref_from(mn, {2, 3, 3}), 8, 12);
  rn[1].strength = 0.5;
  auto r = run_guided(s, pos, neg, x.t, sigma, 7.0);
  EXPECT_TRUE(ref_close(r.out, reference(rp, rn, x.ref, sigma, 7.0), kAtol, kRtol, "masks"));
}

TEST(Conditioning, SetAreaToBoundsUsesTheMaskBoundingBox) {
  vk::Stream s(context());
  auto a = make_ctx(s, 4, 61), b = make_ctx(s, 4, 62), n = make_ctx(s, 4, 63);
  auto x = make_x(s, 1, 16, 24, 64);
  const float sigma = ms().sigmas()[650];
  std::vector<float> m(16 * 24, 0.0f);
  for (int y = 3; y <= 5; ++y)
    for (int xx = 10; xx <= 19; ++xx) m[size_t(y * 24 + xx)] = 0.8f;
  Conditioning pos = {entry(a), entry(b)};
  pos[1].mask = from_host(s, {1, 16, 24}, DType::F32, m);
  pos[1].set_area_to_bounds = true;
  auto resolved = sampling::process_conds(s, ms(), pos, {entry(n)}, 16, 24);
  ASSERT_TRUE(resolved.positive[1].area);
  EXPECT_EQ(*resolved.positive[1].area, (std::array<int64_t, 4>{8, 10, 3, 10}));  // 3 rows grow to 8
  ASSERT_EQ(resolved.negative.size(), 2u);  // the partner keeps the mask
  EXPECT_TRUE(resolved.negative[1].mask.has_value());

  std::vector<RefCond> rp = {ref_entry(a), ref_entry(b)};
  rp[1].mask = ref_from(m, {1, 16, 24});
  rp[1].area = {{8, 10, 3, 10}};
  auto r = run_guided(s, pos, {entry(n)}, x.t, sigma, 7.0);
  EXPECT_TRUE(ref_close(r.out, reference(rp, {ref_entry(n)}, x.ref, sigma, 7.0), kAtol, kRtol, "mask bounds"));

  // Bounds over a batch of masks, and an all-zero mask (8 x 8 at the origin).
  std::vector<float> m2(2 * 16 * 24, 0.0f);
  std::copy(m.begin(), m.end(), m2.begin());
  m2[size_t(16 * 24 + 12 * 24 + 2)] = -0.1f;
  Conditioning p2 = {entry(a)};
  p2[0].mask = from_host(s, {2, 16, 24}, DType::F32, m2);
  p2[0].set_area_to_bounds = true;
  EXPECT_EQ(*sampling::process_conds(s, ms(), p2, {}, 16, 24).positive[0].area, (std::array<int64_t, 4>{10, 18, 3, 2}));
  p2[0].mask = from_host(s, {16, 24}, DType::F32, std::vector<float>(16 * 24, 0.0f));
  EXPECT_EQ(*sampling::process_conds(s, ms(), p2, {}, 16, 24).positive[0].area, (std::array<int64_t, 4>{8, 8, 0, 0}));
}

TEST(Conditioning, TimestepRangesSelectEntriesBySigma) {
  vk::Stream s(context());
  auto a = make_ctx(s, 4, 71), b = make_ctx(s, 4, 72), n = make_ctx(s, 4, 73);
  auto x = make_x(s, 1, 6, 6, 74);
  Conditioning pos = {entry(a), entry(b)};
  pos[0].start_percent = 0.0, pos[0].end_percent = 0.5;
  pos[1].start_percent = 0.5, pos[1].end_percent = 1.0;
  const float mid = float(sampling::percent_to_sigma(ms(), 0.5));
  std::vector<RefCond> rp = {ref_entry(a), ref_entry(b)};
  rp[0].sigma_end = mid;
  rp[1].sigma_start = mid;
  for (float sigma : {ms().sigmas()[900], mid, ms().sigmas()[100]}) {
    auto r = run_guided(s, pos, {entry(n)}, x.t, sigma, 7.0);
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.calls[0].first, sigma == mid ? 3 : 2) << sigma;  // both bounds are inclusive
    EXPECT_TRUE(ref_close(r.out, reference(rp, {ref_entry(n)}, x.ref, sigma, 7.0), kAtol, kRtol,
                          "timestep range at sigma " + std::to_string(sigma)));
  }
  // A side with no entry left predicts zeros: denoised = cond * cfg.
  Conditioning neg = {entry(n)};
  neg[0].start_percent = 0.9;
  std::vector<RefCond> rn = {ref_entry(n)};
  rn[0].sigma_start = sampling::percent_to_sigma(ms(), 0.9);
  const float high = ms().sigmas()[900];
  auto r = run_guided(s, pos, neg, x.t, high, 7.0);
  EXPECT_TRUE(ref_close(r.out, reference(rp, rn, x.ref, high, 7.0), kAtol, kRtol, "empty uncond side"));
}

TEST(Conditioning, CfgOneSkipsUncondUnlessAsked) {
  vk::Stream s(context());
  auto a = make_ctx(s, 4, 81), n = make_ctx(s, 4, 82);
  auto x = make_x(s, 1, 6, 7, 83);
  const float sigma = ms().sigmas()[450];
  auto r = run_guided(s, {entry(a)}, {entry(n)}, x.t, sigma, 1.0);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].first, 1);
  EXPECT_TRUE(ref_close(r.out, reference({ref_entry(a)}, {ref_entry(n)}, x.ref, sigma, 1.0), kAtol, kRtol, "cfg 1"));
  // A CFG++ sampler asks for the uncond prediction: both sides run, even at cfg 1.
  auto ru = run_guided(s, {entry(a)}, {entry(n)}, x.t, sigma, 1.0, true);
  EXPECT_EQ(ru.calls[0].first, 2);
  RefTensor unc;
  auto want = reference({ref_entry(a)}, {ref_entry(n)}, x.ref, sigma, 1.0, true, &unc);
  EXPECT_TRUE(ref_close(ru.out, want, kAtol, kRtol, "cfg 1 with uncond: denoised"));
  EXPECT_TRUE(ref_close(ru.uncond, unc, kAtol, kRtol, "cfg 1 with uncond: uncond"));
}

TEST(Conditioning, LatentBatchRepeatsContexts) {
  vk::Stream s(context());
  auto a = make_ctx(s, 4, 91, 2), n = make_ctx(s, 6, 92);  // contexts of batch 2 and 1 for a batch of 3
  auto x = make_x(s, 3, 5, 6, 93);
  const float sigma = ms().sigmas()[999];
  auto r = run_guided(s, {entry(a)}, {entry(n)}, x.t, sigma, 3.0);
  EXPECT_TRUE(ref_close(r.out, reference({ref_entry(a)}, {ref_entry(n)}, x.ref, sigma, 3.0), kAtol, kRtol, "batch 3"));
}

}  // namespace
}  // namespace vkdream::test
