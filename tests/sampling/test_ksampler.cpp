// common_ksampler (the KSampler / KSamplerAdvanced nodes): KSampler.sample's sigma rules
// (last_step truncation, force_full_denoise, start_step slicing and its early return), the noise
// (add_noise, batch_index), KSamplerAdvanced two-pass runs equal to one pass for deterministic
// samplers, and the inpainting path of KSamplerX0Inpaint against a CPU reference of the whole
// Euler run on the fake UNet of cond_reference.h.
#include <gtest/gtest.h>

#include <cmath>

#include "sampling/cond_reference.h"
#include "sampling/ksampler.h"
#include "sampling/schedulers.h"
#include "sampling/torch_rng.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

using sampling::KSamplerRequest;

const sampling::ModelSamplingDiscrete& ms() {
  static sampling::ModelSamplingDiscrete m;
  return m;
}

KSamplerRequest request(const std::string& sampler, int steps, double denoise = 1.0) {
  KSamplerRequest r;
  r.seed = 1234;
  r.steps = steps;
  r.cfg = 6.5;
  r.sampler = sampler;
  r.scheduler = "normal";
  r.denoise = denoise;
  return r;
}

TEST(KSamplerRequest, SigmaRules) {
  auto full = sampling::ksampler_sigmas(ms(), "normal", "euler", 8, 1.0);
  ASSERT_EQ(full.size(), 9u);
  auto r = request("euler", 8);
  EXPECT_EQ(*sampling::ksampler_request_sigmas(ms(), r), full);  // KSampler: 0 / 10000 / force: unchanged
  r.last_step = 4;
  r.force_full_denoise = false;  // return_with_leftover_noise: ends at sigma[4]
  EXPECT_EQ(*sampling::ksampler_request_sigmas(ms(), r), std::vector<float>(full.begin(), full.begin() + 5));
  r.force_full_denoise = true;
  auto forced = std::vector<float>(full.begin(), full.begin() + 5);
  forced.back() = 0.0f;
  EXPECT_EQ(*sampling::ksampler_request_sigmas(ms(), r), forced);
  r = request("euler", 8);
  r.start_step = 4;
  EXPECT_EQ(*sampling::ksampler_request_sigmas(ms(), r), std::vector<float>(full.begin() + 4, full.end()));
  r.start_step = 7;  // one step left
  EXPECT_EQ(sampling::ksampler_request_sigmas(ms(), r)->size(), 2u);
  r.start_step = 8;  // nothing left: ComfyUI returns the latent
  EXPECT_FALSE(sampling::ksampler_request_sigmas(ms(), r).has_value());
  r.start_step = 3, r.last_step = 3;  // truncation first, then start
  EXPECT_FALSE(sampling::ksampler_request_sigmas(ms(), r).has_value());
  r.start_step = 2, r.last_step = 5, r.force_full_denoise = true;
  auto mid = std::vector<float>(full.begin() + 2, full.begin() + 6);
  mid.back() = 0.0f;
  EXPECT_EQ(*sampling::ksampler_request_sigmas(ms(), r), mid);
  // dpm_2 drops the penultimate sigma before the rules apply; denoise < 1 keeps the last steps+1.
  r = request("dpm_2", 6);
  r.last_step = 3;
  auto d2 = sampling::ksampler_sigmas(ms(), "normal", "dpm_2", 6, 1.0);
  d2.resize(4);
  d2.back() = 0.0f;
  EXPECT_EQ(*sampling::ksampler_request_sigmas(ms(), r), d2);
  r = request("euler", 6, 0.5);
  EXPECT_EQ(*sampling::ksampler_request_sigmas(ms(), r), sampling::ksampler_sigmas(ms(), "normal", "euler", 6, 0.5));
  r.denoise = 0.0;  // empty schedule: the latent comes back
  EXPECT_FALSE(sampling::ksampler_request_sigmas(ms(), r).has_value());
  r = request("euler", 6);
  r.start_step = -1;
  EXPECT_THROW(sampling::ksampler_request_sigmas(ms(), r), sampling::SamplerError);
}

TEST(KSamplerRequest, NoiseAndBatchIndex) {
  vk::Stream s(context());
  auto r = request("euler", 4);
  Shape shape{2, 4, 3, 5};
  auto n = to_host(s, sampling::ksampler_noise(s, r, shape));
  EXPECT_EQ(n, sampling::prepare_noise(r.seed, {2, 4, 3, 5}));
  r.batch_index = {3, 1};  // draws for images 0..3 from one generator, keeps 3 then 1
  sampling::TorchGenerator gen(r.seed);
  std::vector<std::vector<float>> draws;
  for (int i = 0; i < 4; ++i) draws.push_back(gen.randn(4 * 3 * 5));
  auto nb = to_host(s, sampling::ksampler_noise(s, r, shape));
  std::vector<float> want = draws[3];
  want.insert(want.end(), draws[1].begin(), draws[1].end());
  EXPECT_EQ(nb, want);
  r.add_noise = false;
  for (float v : to_host(s, sampling::ksampler_noise(s, r, shape))) ASSERT_EQ(v, 0.0f);
}

// Conditioning for the fake UNet and its reference twin.
struct Conds {
  sampling::Conditioning pos, neg;
  std::vector<RefCond> rpos, rneg;
};
Conds make_conds(vk::Stream& s) {
  Conds c;
  auto add = [&](sampling::Conditioning& side, std::vector<RefCond>& ref, int64_t L, uint32_t seed) {
    auto v = random_normal(size_t(L * kFakeChannels), seed, 1.5f);
    sampling::CondEntry e;
    e.cross_attn = from_host(s, {1, L, kFakeChannels}, DType::F32, v);
    side.push_back(e);
    RefCond r;
    r.ctx = ref_from(v, {1, L, kFakeChannels});
    ref.push_back(r);
  };
  add(c.pos, c.rpos, 5, 101);
  add(c.neg, c.rneg, 5, 102);
  return c;
}

// The whole KSampler run with Euler in double precision: start point, KSamplerX0Inpaint blending
// (when `mask` is given), CFG through the reference calc_cond_batch, / 0.18215.
std::vector<double> ref_euler_run(const Conds& c, const RefTensor& latent, const std::vector<float>& noise,
                                  const std::vector<float>& inpaint_noise, const std::vector<float>& sig, double cfg,
                                  const RefTensor* mask) {
  const double k = 0.18215;
  std::vector<RefCond> pos = c.rpos, neg = c.rneg;
  ref_pair_areas(pos, neg);
  RefTensor lat = latent;
  for (auto& v : lat.v) v *= k;
  const double s0 = sig[0];
  const bool max_denoise = std::abs(double(ms().sigma_max()) - s0) <= 1e-5 * std::max<double>(ms().sigma_max(), s0) ||
                           s0 > ms().sigma_max();
  const double scale = max_denoise ? std::sqrt(1.0 + s0 * s0) : s0;
  RefTensor x = lat;
  for (size_t i = 0; i < x.v.size(); ++i) x.v[i] = lat.v[i] + double(noise[i]) * scale;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    const double sigma = sig[i];
    RefTensor xin = x;
    if (mask)
      for (size_t j = 0; j < x.v.size(); ++j) {
        double m = mask->v[j];
        xin.v[j] = x.v[j] * m + (lat.v[j] + double(inpaint_noise[j]) * sigma) * (1 - m);
      }
    RefTensor den = ref_guided(pos, neg, xin, sigma, cfg, ms());
    if (mask)
      for (size_t j = 0; j < x.v.size(); ++j) den.v[j] = den.v[j] * mask->v[j] + lat.v[j] * (1 - mask->v[j]);
    for (size_t j = 0; j < x.v.size(); ++j) x.v[j] += (x.v[j] - den.v[j]) / sigma * (double(sig[i + 1]) - sigma);
  }
  for (auto& v : x.v) v /= k;
  return x.v;
}

TEST(KSampler, InpaintingMatchesReference) {
  vk::Stream s(context());
  auto c = make_conds(s);
  const Shape shape{1, 4, 8, 8};
  auto lat = random_normal(4 * 8 * 8, 111, 2.0f);
  Tensor latent = from_host(s, shape, DType::F32, lat);
  auto mask_v = random_uniform(16 * 16, 112, -0.2f, 1.2f);  // soft, and outside [0, 1]: no clamping either
  for (const char* sampler : {"euler", "ddim"}) {
    auto req = request(sampler, 4, 0.8);
    req.noise_mask = from_host(s, {1, 16, 16}, DType::F32, mask_v);
    int calls = 0;
    sampling::SampleOptions opt;
    Tensor out = sampling::common_ksampler(s, fake_eps(&calls), ms(), c.pos, c.neg, latent, req, opt);
    auto sig = *sampling::ksampler_request_sigmas(ms(), req);
    auto noise = sampling::prepare_noise(req.seed, {1, 4, 8, 8});
    // ddim's inpaint noise is a fresh randn from a seed + 1 generator (KSAMPLER inpaint_options random).
    auto inoise = std::string(sampler) == "ddim" ? sampling::TorchGenerator(req.seed + 1).randn(4 * 8 * 8) : noise;
    RefTensor m = ref_bilinear(ref_from(mask_v, {1, 16, 16}), 8, 8);
    RefTensor m4{{1, 4, 8, 8}, {}};
    for (int ch = 0; ch < 4; ++ch) m4.v.insert(m4.v.end(), m.v.begin(), m.v.end());
    auto want = ref_euler_run(c, ref_from(lat, {1, 4, 8, 8}), noise, inoise, sig, req.cfg, &m4);
    EXPECT_EQ(calls, 4);
    EXPECT_TRUE(ref_close(to_host(s, out), RefTensor{{1, 4, 8, 8}, want}, 2e-3, 2e-4, std::string("inpaint ") + sampler));
  }
}

TEST(KSampler, PlainRunMatchesReferenceAndMaskOfOnesChangesNothing) {
  vk::Stream s(context());
  auto c = make_conds(s);
  const Shape shape{2, 4, 6, 5};
  auto lat = random_normal(size_t(shape_numel(shape)), 121, 1.0f);
  Tensor latent = from_host(s, shape, DType::F32, lat);
  auto req = request("euler", 5);
  sampling::SampleOptions opt;
  auto got = to_host(s, sampling::common_ksampler(s, fake_eps(), ms(), c.pos, c.neg, latent, req, opt));
  auto sig = *sampling::ksampler_request_sigmas(ms(), req);
  auto noise = sampling::prepare_noise(req.seed, {2, 4, 6, 5});
  auto want = ref_euler_run(c, ref_from(lat, {2, 4, 6, 5}), noise, noise, sig, req.cfg, nullptr);
  EXPECT_TRUE(ref_close(got, RefTensor{{2, 4, 6, 5}, want}, 2e-3, 2e-4, "txt2img-style run, batch 2"));
  req.noise_mask = from_host(s, {6, 5}, DType::F32, std::vector<float>(30, 1.0f));
  auto masked = to_host(s, sampling::common_ksampler(s, fake_eps(), ms(), c.pos, c.neg, latent, req, opt));
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(masked[i], got[i], 1e-5 * (1 + std::abs(got[i]))) << i;
}

TEST(KSampler, AdvancedTwoPassEqualsOnePass) {
  vk::Stream s(context());
  auto c = make_conds(s);
  const Shape shape{1, 4, 6, 6};
  Tensor empty = from_host(s, shape, DType::F32, std::vector<float>(size_t(shape_numel(shape)), 0.0f));
  for (const char* sampler : {"euler", "heun"}) {
    sampling::SampleOptions opt;
    auto one = request(sampler, 8);
    auto full = to_host(s, sampling::common_ksampler(s, fake_eps(), ms(), c.pos, c.neg, empty, one, opt));
    auto p1 = request(sampler, 8);  // add_noise enable, end_at_step 4, return_with_leftover_noise enable
    p1.last_step = 4;
    p1.force_full_denoise = false;
    Tensor mid = sampling::common_ksampler(s, fake_eps(), ms(), c.pos, c.neg, empty, p1, opt);
    auto p2 = request(sampler, 8);  // add_noise disable, start_at_step 4, end_at_step 10000
    p2.seed = 99;
    p2.add_noise = false;
    p2.start_step = 4;
    auto two = to_host(s, sampling::common_ksampler(s, fake_eps(), ms(), c.pos, c.neg, mid, p2, opt));
    double worst = 0;
    for (size_t i = 0; i < full.size(); ++i) {
      worst = std::max(worst, std::abs(double(two[i]) - full[i]));
      ASSERT_NEAR(two[i], full[i], 1e-4 * (1 + std::abs(full[i]))) << sampler << " " << i;
    }
    std::printf("[ksampler] %s two passes vs one: max abs diff %.3g\n", sampler, worst);
  }
}

TEST(KSampler, StartPastTheEndReturnsTheLatent) {
  vk::Stream s(context());
  auto c = make_conds(s);
  auto lat = random_normal(4 * 4 * 4, 131, 1.0f);
  Tensor latent = from_host(s, {1, 4, 4, 4}, DType::F32, lat);
  auto req = request("euler", 6);
  req.start_step = 6;
  int calls = 0;
  sampling::SampleOptions opt;
  auto out = to_host(s, sampling::common_ksampler(s, fake_eps(&calls), ms(), c.pos, c.neg, latent, req, opt));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(out, lat);
}

TEST(KSampler, ProgressAndInterruptFlowThrough) {
  vk::Stream s(context());
  auto c = make_conds(s);
  Tensor latent = from_host(s, {1, 4, 4, 4}, DType::F32, std::vector<float>(64, 0.0f));
  auto req = request("euler", 8);
  req.start_step = 3;
  std::vector<std::pair<int, int>> steps;
  sampling::SampleOptions opt;
  opt.on_step = [&](const sampling::StepInfo& st) { steps.push_back({st.step, st.total}); };
  sampling::common_ksampler(s, fake_eps(), ms(), c.pos, c.neg, latent, req, opt);
  ASSERT_EQ(steps.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(steps[size_t(i)], std::make_pair(i, 5));
  int calls = 0;
  opt.on_step = nullptr;
  opt.interrupted = [&] { return calls >= 2; };
  EXPECT_THROW(sampling::common_ksampler(s, fake_eps(&calls), ms(), c.pos, c.neg, latent, req, opt),
               sampling::Interrupted);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace vkdream::test
