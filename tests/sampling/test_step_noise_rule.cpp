// The per-step noise rule of the stochastic samplers: ComfyUI's CPU rule (torch CPU generator seeded
// with seed + 1) and its NVIDIA rule (torch CUDA Philox generator seeded with seed), chosen by
// SampleOptions::noise_rule, set by the nodes from VKDREAM_STEP_NOISE / VKDREAM_CUDA_*. The noise a
// sampler added is recovered from its steps (x_{i+1} = a x_i + b denoised_i + up * noise_i) and compared
// with the generator's draws.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "ops/elementwise.h"
#include "sampling/cfg.h"
#include "sampling/cuda_philox.h"
#include "sampling/ksampler.h"
#include "sampling/sampler.h"
#include "sampling/sampler_context.h"
#include "sampling/tiny_models.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

using sampling::NoiseRule;

// The draws default_noise_sampler makes under `rule` for a latent of n values.
struct ExpectedNoise {
  ExpectedNoise(uint64_t seed, NoiseRule rule, sampling::CudaDeviceShape dev = {})
      : rule(rule), cpu(seed + 1), cuda(seed, dev) {}
  std::vector<float> next(int64_t n) { return rule == NoiseRule::kCudaGenerator ? cuda.randn(n) : cpu.randn(n); }
  NoiseRule rule;
  sampling::TorchGenerator cpu;
  sampling::CudaGenerator cuda;
};

TEST(StepNoiseRule, CudaRuleIsTheSeedCudaGeneratorWithItsOffsetAdvancing) {
  vk::Stream s(context());
  const sampling::CudaDeviceShape one_sm{1, 256};  // 2048 values: two curand_normal4 calls per thread here
  sampling::StepNoise n(42, NoiseRule::kCudaGenerator, one_sm);
  sampling::CudaGenerator g(42, one_sm);
  for (int k = 0; k < 3; ++k) ASSERT_EQ(to_host(s, n.next(s, {1, 4, 16, 32})), g.randn(2048)) << "draw " << k;
  EXPECT_EQ(g.offset(), 3u * 8u);
  EXPECT_EQ(n.draws(), 3);
  // The default device, and not the CPU rule's generator.
  sampling::StepNoise d(42, NoiseRule::kCudaGenerator);
  EXPECT_EQ(d.next_host(64), sampling::CudaGenerator(42).randn(64));
  EXPECT_NE(sampling::StepNoise(42).next_host(64), sampling::CudaGenerator(42).randn(64));
}

TEST(StepNoiseRule, ParsesTheEnvironmentSetting) {
  auto st = sampling::parse_step_noise_setting(nullptr, nullptr, nullptr);
  EXPECT_EQ(st.rule, NoiseRule::kCpuGenerator);
  EXPECT_EQ(st.cuda_device.sm_count, 128);
  EXPECT_EQ(st.cuda_device.max_threads_per_sm, 1536);
  EXPECT_EQ(sampling::parse_step_noise_setting("", "", "").rule, NoiseRule::kCpuGenerator);
  EXPECT_EQ(sampling::parse_step_noise_setting("cpu", nullptr, nullptr).rule, NoiseRule::kCpuGenerator);
  st = sampling::parse_step_noise_setting("cuda", "108", "2048");
  EXPECT_EQ(st.rule, NoiseRule::kCudaGenerator);
  EXPECT_EQ(st.cuda_device.sm_count, 108);
  EXPECT_EQ(st.cuda_device.max_threads_per_sm, 2048);
  for (auto [rule, sms, threads] : std::vector<std::array<const char*, 3>>{
           {"gpu", nullptr, nullptr}, {"CUDA", nullptr, nullptr}, {"cuda", "0", nullptr}, {"cuda", "12x", nullptr},
           {"cuda", nullptr, "128"}, {"cuda", nullptr, "-2048"}, {"cpu", "99999999999", nullptr}}) {
    try {
      sampling::parse_step_noise_setting(rule, sms, threads);
      ADD_FAILURE() << "accepted " << rule << " " << (sms ? sms : "-") << " " << (threads ? threads : "-");
    } catch (const sampling::SamplerError& e) {
      EXPECT_NE(std::string(e.what()).find("VKDREAM_"), std::string::npos) << e.what();
    }
  }
}

struct Step {
  std::vector<float> x, den;
  double sigma;
};

// Recovers the noise of each euler_ancestral step that added noise and compares it with `want`.
// The sampler computes x_{i+1} = a x_i + b den_i + up n_i in f32; the recovered n carries that
// rounding divided by up: allowed 2^-20 * (|x_{i+1}| + |a x_i| + |b den_i| + |up n_i|) / up.
void expect_step_noise(const std::vector<Step>& steps, const std::vector<float>& sigmas, ExpectedNoise want,
                       const std::string& what, int* checked_steps) {
  double worst = 0;
  *checked_steps = 0;
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    const double s = sigmas[i], sn = sigmas[i + 1];
    auto [down, up] = sampling::detail::ancestral_step(s, sn, 1.0);
    if (down == 0.0) continue;
    const double dt = down - s, a = 1.0 + dt / s, b = -dt / s;
    const auto& x = steps[i].x;
    const auto& d = steps[i].den;
    const auto& x1 = steps[i + 1].x;
    std::vector<float> n = want.next(int64_t(x.size()));
    for (size_t j = 0; j < x.size(); ++j) {
      const double rec = (double(x1[j]) - a * x[j] - b * d[j]) / up;
      const double tol =
          std::ldexp(std::abs(x1[j]) + std::abs(a * x[j]) + std::abs(b * d[j]) + std::abs(up * n[j]), -20) / up;
      ASSERT_NEAR(rec, n[j], tol + 1e-6) << what << " step " << i << " element " << j;
      worst = std::max(worst, std::abs(rec - n[j]));
    }
    ++*checked_steps;
  }
  std::printf("[step noise] %-40s %d noisy steps, max |recovered - drawn| %.3g\n", what.c_str(), *checked_steps, worst);
}

class StepNoiseRuleRun : public ::testing::TestWithParam<NoiseRule> {};

// With a denoiser that predicts 0, every step is x_{i+1} = (down/s) x_i + up * n_i exactly.
TEST_P(StepNoiseRuleRun, EulerAncestralAddsTheRulesDraws) {
  vk::Stream s(context());
  const Shape shape{1, 4, 8, 8};
  Tensor x = from_host(s, shape, DType::F32, std::vector<float>(256, 0.0f));
  auto zero = sampling::simple_denoiser(
      [](vk::Stream& st, const Tensor& xin, float) { return ops::lincomb(st, {{0.0, &xin}}); });
  std::vector<float> sig = {14.6f, 6.0f, 2.5f, 0.9f, 0.3f, 0.0f};
  std::vector<Step> steps;
  sampling::SampleOptions opt;
  opt.seed = 77;
  opt.noise_rule = GetParam();
  opt.on_step = [&](const sampling::StepInfo& st) {
    steps.push_back({to_host(s, st.x), to_host(s, st.denoised), st.sigma});
  };
  Tensor out = sampling::sample(s, "euler_ancestral", zero, x, sig, opt);
  ASSERT_EQ(steps.size(), 5u);
  int checked = 0;
  expect_step_noise(steps, sig, ExpectedNoise(77, GetParam()),
                    GetParam() == NoiseRule::kCudaGenerator ? "zero denoiser, cuda rule" : "zero denoiser, cpu rule",
                    &checked);
  EXPECT_EQ(checked, 4);
}

INSTANTIATE_TEST_SUITE_P(Rules, StepNoiseRuleRun, ::testing::Values(NoiseRule::kCpuGenerator, NoiseRule::kCudaGenerator),
                         [](const ::testing::TestParamInfo<NoiseRule>& i) {
                           return std::string(i.param == NoiseRule::kCudaGenerator ? "Cuda" : "Cpu");
                         });

// The real (tiny) UNet through common_ksampler in both modes: different noise, both finite, and the
// noise each run added is its rule's draws.
TEST(StepNoiseRule, TinyModelEulerAncestralInBothModes) {
  const auto& m = tiny_models();
  static sampling::ModelSamplingDiscrete ms;
  vk::Stream s(context());
  sampling::TorchGenerator cg(5), ug(6);
  sampling::Conditioning pos(1), neg(1);
  pos[0].cross_attn = from_host(s, {1, 77, 64}, DType::F32, cg.randn(77 * 64));
  neg[0].cross_attn = from_host(s, {1, 77, 64}, DType::F32, ug.randn(77 * 64));
  const Shape shape{1, 4, 8, 8};
  Tensor latent = from_host(s, shape, DType::F32, std::vector<float>(256, 0.0f));
  sampling::KSamplerRequest req;
  req.seed = 123;
  req.steps = 4;
  req.cfg = 3.0;
  req.sampler = "euler_ancestral";
  req.scheduler = "karras";
  auto sigmas = sampling::ksampler_request_sigmas(ms, req);
  ASSERT_TRUE(sigmas.has_value());

  std::vector<float> outs[2];
  for (NoiseRule rule : {NoiseRule::kCpuGenerator, NoiseRule::kCudaGenerator}) {
    const bool cuda = rule == NoiseRule::kCudaGenerator;
    std::vector<Step> steps;
    sampling::SampleOptions opt;
    opt.noise_rule = rule;
    opt.on_step = [&](const sampling::StepInfo& st) {
      steps.push_back({to_host(s, st.x), to_host(s, st.denoised), st.sigma});
    };
    Tensor out = sampling::common_ksampler(s, sampling::unet_eps(*m.unet), ms, pos, neg, latent, req, opt);
    outs[cuda] = to_host(s, out);
    for (float v : outs[cuda]) ASSERT_TRUE(std::isfinite(v)) << (cuda ? "cuda" : "cpu");
    ASSERT_EQ(steps.size(), 4u);
    int checked = 0;
    expect_step_noise(steps, *sigmas, ExpectedNoise(req.seed, rule),
                      cuda ? "tiny UNet, cuda rule" : "tiny UNet, cpu rule", &checked);
    EXPECT_EQ(checked, 3);  // the last step goes to sigma 0 without noise
  }
  double diff = 0;
  for (size_t i = 0; i < outs[0].size(); ++i) diff = std::max(diff, double(std::abs(outs[0][i] - outs[1][i])));
  EXPECT_GT(diff, 0.1) << "the two rules gave the same samples";
}

}  // namespace
}  // namespace vkdream::test
