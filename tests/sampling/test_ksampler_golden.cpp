// The ComfyUI KSampler goldens (group "ksampler": 30 samplers, every scheduler, img2img at denoise
// 0.6) run end to end through common_ksampler with the real tiny UNet: the request is built from the
// case's node parameters only (seed, steps, cfg, sampler, scheduler, denoise), so the sigmas and the
// noise come from KSampler's own rules; each step's x and the samples must match within the case's
// tolerance. A representative subset runs by default (about 25 s a case on a loaded 2-core lavapipe
// machine; vkdream_golden_test runs every case through cfg_denoiser); VKDREAM_KSAMPLER_GOLDEN_ALL=1
// runs all of them. The tiny checkpoint is generated next to the golden test's (<build>/tiny-sd15) or in
// VKDREAM_TINY_DIR.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "model/safetensors.h"
#include "sampling/golden_index.h"
#include "sampling/ksampler.h"
#include "sampling/tiny_models.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

struct GCase {
  std::string name, file;
  sampling::KSamplerRequest req;
  double atol = 0, rtol = 0;
};

// One case per code path: plain Euler, per-step noise (seed + 1), a dropped penultimate sigma, CFG++
// (uncond at every call), a multistep sampler, and denoise < 1 (img2img start point).
const char* const kDefaultCases[] = {"ks_euler_normal", "ks_euler_ancestral_karras", "ks_dpm_2_normal",
                                     "ks_euler_cfg_pp_normal", "img2img_euler_normal_d0.6",
                                     "img2img_dpmpp_2m_karras_d0.6"};

std::vector<GCase> golden_ksampler_cases() {
  std::vector<GCase> out;
  const char* all = std::getenv("VKDREAM_KSAMPLER_GOLDEN_ALL");
  for (auto c : golden_index()["cases"].get_array()) {
    if (std::string_view(c["group"].get_string()) != "ksampler") continue;
    GCase k;
    k.name = std::string(std::string_view(c["name"].get_string()));
    if (!(all && *all == '1') && std::find(std::begin(kDefaultCases), std::end(kDefaultCases), k.name) == std::end(kDefaultCases))
      continue;
    k.file = std::string(std::string_view(c["file"].get_string()));
    auto p = c["params"];
    auto sn = p["sampler_name"];
    k.req.sampler = std::string(std::string_view(sn.error() ? p["sampler"].get_string() : sn.get_string()));
    k.req.scheduler = std::string(std::string_view(p["scheduler"].get_string()));
    k.req.seed = uint64_t(int64_t(p["seed"]));
    k.req.steps = int(int64_t(p["steps"]));
    k.req.cfg = double(p["cfg"]);
    auto dn = p["denoise"];
    k.req.denoise = dn.error() ? 1.0 : double(dn);
    k.atol = double(c["tolerance"]["atol"]);
    k.rtol = double(c["tolerance"]["rtol"]);
    out.push_back(k);
  }
  return out;
}

::testing::AssertionResult within(const std::vector<float>& got, const std::vector<float>& want, double atol,
                                  double rtol, const std::string& what, double* max_err = nullptr) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << what << ": " << got.size() << " values, want " << want.size();
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double e = std::abs(double(got[i]) - double(want[i]));
    if (!(e <= atol + rtol * std::abs(double(want[i]))))
      return ::testing::AssertionFailure() << what << ": element " << i << " got " << got[i] << " want " << want[i];
    worst = std::max(worst, e);
  }
  if (max_err) *max_err = worst;
  return ::testing::AssertionSuccess();
}

class CommonKSamplerGolden : public ::testing::TestWithParam<GCase> {};

TEST_P(CommonKSamplerGolden, CommonKSamplerMatchesComfyUI) {
  const GCase& c = GetParam();
  auto f = model::SafetensorsFile::open(golden_dir() + "/" + c.file);
  auto get = [&](const char* n) {
    auto* t = f->find(n);
    if (!t) throw std::runtime_error(c.name + ": no tensor " + n);
    return std::make_pair(f->to_float(*t), Shape(t->shape.begin(), t->shape.end()));
  };
  static sampling::ModelSamplingDiscrete ms;
  const auto& m = tiny_models();
  vk::Stream s(context());
  auto [lat, ls] = get("latent_in");
  auto [pc, pcs] = get("positive_cond");
  auto [nc, ncs] = get("negative_cond");
  sampling::Conditioning pos(1), neg(1);
  pos[0].cross_attn = from_host(s, pcs, DType::F32, pc);
  neg[0].cross_attn = from_host(s, ncs, DType::F32, nc);
  Tensor latent = from_host(s, ls, DType::F32, lat);

  // KSampler's rules must give the recorded sigmas and noise.
  auto sig = sampling::ksampler_request_sigmas(ms, c.req);
  ASSERT_TRUE(sig.has_value());
  auto want_sig = get("sigmas").first;
  ASSERT_EQ(sig->size(), want_sig.size());
  for (size_t i = 0; i < sig->size(); ++i) EXPECT_FLOAT_EQ((*sig)[i], want_sig[i]) << c.name << " sigma " << i;
  // Noise within a few ulp (PyTorch's vectorised Box-Muller uses SLEEF's log/sin/cos, we use libm's).
  auto noise = to_host(s, sampling::ksampler_noise(s, c.req, ls));
  auto want_noise = get("noise").first;
  ASSERT_EQ(noise.size(), want_noise.size());
  for (size_t i = 0; i < noise.size(); ++i) {
    int32_t a, b;
    std::memcpy(&a, &noise[i], 4);
    std::memcpy(&b, &want_noise[i], 4);
    ASSERT_LE(std::abs(int64_t(a) - int64_t(b)), 4) << c.name << " noise " << i;
  }

  std::vector<std::vector<float>> steps;
  sampling::SampleOptions opt;
  opt.on_step = [&](const sampling::StepInfo& st) { steps.push_back(to_host(s, st.x)); };
  Tensor out = sampling::common_ksampler(s, sampling::unet_eps(*m.unet), ms, pos, neg, latent, c.req, opt);
  auto want_steps = get("steps_x").first;
  const size_t per = size_t(shape_numel(ls));
  ASSERT_EQ(steps.size() * per, want_steps.size()) << c.name << ": callback count";
  for (size_t i = 0; i < steps.size(); ++i) {
    std::vector<float> w(want_steps.begin() + long(i * per), want_steps.begin() + long((i + 1) * per));
    EXPECT_TRUE(within(steps[i], w, c.atol, c.rtol, c.name + " step " + std::to_string(i)));
  }
  double err = 0;
  EXPECT_TRUE(within(to_host(s, out), get("samples").first, c.atol, c.rtol, c.name + " samples", &err));
  std::printf("[ksampler golden] %-36s max abs err %.3g (atol %.3g)\n", c.name.c_str(), err, c.atol);
}

INSTANTIATE_TEST_SUITE_P(Golden, CommonKSamplerGolden, ::testing::ValuesIn(golden_ksampler_cases()),
                         [](const ::testing::TestParamInfo<GCase>& i) {
                           std::string n = i.param.name;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace vkdream::test
