// The data-driven golden test: every model case of index.json (VKDREAM_GOLDEN_DIR, default
// tests/fixtures/golden) runs as its own GoogleTest case named <storage>/<group>_<name>, with
// the tolerance the case states: |got - want| <= atol + rtol * |want| elementwise. Weights are
// stored in f32 and in f16; f16 storage keeps activations in f16 too, so its cases use the
// measured f16 tolerances below (never loosened to make a change pass).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "model/prompt_tokens.h"
#include "model/safetensors.h"
#include "model/sd15_checkpoint.h"
#include "model/tiny_sd15.h"
#include "ops/layout.h"
#include "model/clip_tokenizer.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "sampling/cfg.h"
#include "sampling/model_sampling.h"
#include "sampling/schedulers.h"
#include "sampling/torch_rng.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

std::string golden_dir() {
  const char* env = std::getenv("VKDREAM_GOLDEN_DIR");
  return env && *env ? env : VKDREAM_FIXTURES_DIR "/golden";
}

struct Case;
void PrintTo(const Case& c, std::ostream* os);

struct Case {
  std::string group, name, kind, file, checkpoint;
  double atol = 0, rtol = 0;
  std::map<std::string, std::string> params;  // scalar params as text
  std::string param(const std::string& k, const std::string& alt = "") const {
    auto it = params.find(k);
    return it == params.end() ? alt : it->second;
  }
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.group << "/" << c.name; }

std::vector<Case> model_cases() {
  static simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(golden_dir() + "/index.json");
  std::vector<Case> out;
  for (auto c : root["cases"].get_array()) {
    Case k;
    k.group = std::string(std::string_view(c["group"].get_string()));
    k.kind = std::string(std::string_view(c["kind"].get_string()));
    if (k.kind != "clip" && k.kind != "unet" && k.kind != "unet_denoiser" && k.kind != "vae_decode" &&
        k.kind != "vae_encode" && k.kind != "ksampler" && k.kind != "ksampler_img2img" && k.kind != "e2e")
      continue;
    k.name = std::string(std::string_view(c["name"].get_string()));
    k.file = std::string(std::string_view(c["file"].get_string()));
    std::string_view ck;
    k.checkpoint = c["checkpoint"].get_string().get(ck) ? "tiny-sd15.safetensors" : std::string(ck);
    auto tol = c["tolerance"];
    if (k.kind == "e2e") {
      k.atol = double(tol["image"]["atol"]);
      k.rtol = 0;
    } else {
      k.atol = double(tol["atol"]);
      k.rtol = double(tol["rtol"]);
    }
    auto p = c["params"];
    if (p.is_object()) {
      std::string_view sv;
      int64_t iv;
      uint64_t uv;
      double dv;
      for (auto kv : p.get_object()) {
        std::string key(kv.key);
        if (!kv.value.get_string().get(sv)) k.params[key] = std::string(sv);
        else if (!kv.value.get_int64().get(iv)) k.params[key] = std::to_string(iv);
        else if (!kv.value.get_uint64().get(uv)) k.params[key] = std::to_string(uv);
        else if (!kv.value.get_double().get(dv)) k.params[key] = std::to_string(dv);
      }
    }
    out.push_back(k);
  }
  return out;
}

// The tiny checkpoint, generated once per build tree (tiny-checkpoint.md) and loaded per storage.
const model::SD15Models& models(const std::string& checkpoint, DType storage) {
  context();  // the device context first: statics die in reverse order, so it outlives the models below
  static std::mutex mu;
  static std::map<std::pair<std::string, int>, model::SD15Models> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto key = std::make_pair(checkpoint, int(storage));
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto paths = model::ensure_tiny_sd15(VKDREAM_TINY_DIR);
  std::string path = checkpoint == "tiny-sd15-fp16.safetensors" ? paths.f16 : paths.f32;
  static vk::Stream s(context());
  return cache[key] = model::load_sd15_checkpoint(s, path, storage);
}

struct Golden {
  std::unique_ptr<model::SafetensorsFile> file;
  std::vector<float> get(const std::string& name) const {
    auto* t = file->find(name);
    if (!t) throw std::runtime_error("golden tensor '" + name + "' missing");
    return file->to_float(*t);
  }
  Shape shape(const std::string& name) const {
    auto* t = file->find(name);
    if (!t) throw std::runtime_error("golden tensor '" + name + "' missing");
    return Shape(t->shape.begin(), t->shape.end());
  }
};

// Elementwise |got - want| <= atol + rtol |want|; reports the worst element and the max error.
::testing::AssertionResult within(const std::vector<float>& got, const std::vector<float>& want, double atol,
                                  double rtol, const std::string& what, double* max_err = nullptr) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << what << ": " << got.size() << " values, want " << want.size();
  double worst = 0, worst_ratio = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double d = std::fabs(double(got[i]) - want[i]);
    if (!std::isfinite(got[i])) return ::testing::AssertionFailure() << what << ": non-finite at " << i;
    double ratio = d / (atol + rtol * std::fabs(want[i]));
    worst = std::max(worst, d);
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      at = i;
    }
  }
  if (max_err) *max_err = worst;
  std::printf("[golden] %-44s max |err| %.3g (%.0f%% of tolerance)\n", what.c_str(), worst, 100 * worst_ratio);
  if (worst_ratio <= 1.0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": at " << at << " got " << got[at] << " want " << want[at]
                                       << " (max |err| " << worst << ", atol " << atol << ", rtol " << rtol << ")";
}

// f16 storage of activations: tolerances measured on lavapipe with margin (see the note in the
// closing report); the weights of the tiny model are exact in f16, so this is activation rounding.
double f16_atol(const Case& c) {
  if (c.kind == "clip") return 2e-2;
  if (c.kind == "unet") return 2e-2;
  if (c.kind == "unet_denoiser") return 0.3;
  return 4e-3;  // VAE
}

// Token rows from a golden [chunks, 77] ids tensor and weights.
std::vector<model::TokenChunk> golden_chunks(const Golden& g, const std::string& prefix) {
  auto ids = g.file->to_int64(*g.file->find(prefix + "tokens"));
  auto w = g.get(prefix + "weights");
  Shape ts = g.shape(prefix + "tokens");
  std::vector<model::TokenChunk> chunks(static_cast<size_t>(ts[0]));
  for (int64_t r = 0; r < ts[0]; ++r)
    for (int64_t j = 0; j < ts[1]; ++j)
      chunks[size_t(r)].push_back({int32_t(ids[size_t(r * ts[1] + j)]), double(w[size_t(r * ts[1] + j)]), 0, -1, 0});
  return chunks;
}

// KSampler with the real tiny UNet (and, for e2e, text -> CLIP before and VAE decode after).
void run_sampling_case(vk::Stream& s, const Case& c, const Golden& g, const model::SD15Models& m, DType storage,
                       double atol, double rtol, const std::string& tag) {
  static sampling::ModelSamplingDiscrete ms;
  const bool e2e = c.kind == "e2e";
  const std::string sampler = c.param("sampler_name", c.param("sampler"));
  const uint64_t seed = std::stoull(c.param("seed"));
  const double cfg = std::stod(c.param("cfg"));
  Tensor cond, uncond;
  if (e2e) {  // our CLIP on the recorded tokens
    cond = m.clip->encode(s, golden_chunks(g, "positive_"), -1).hidden;
    uncond = m.clip->encode(s, golden_chunks(g, "negative_"), -1).hidden;
    EXPECT_TRUE(within(to_host(s, cond), g.get("positive_cond"), 1e-4, 1e-4, tag + " positive_cond"));
  } else {
    cond = from_host(s, g.shape("positive_cond"), storage, g.get("positive_cond"));
    uncond = from_host(s, g.shape("negative_cond"), storage, g.get("negative_cond"));
  }
  if (cond.dtype() != storage) cond = ops::cast(s, cond, storage);
  if (uncond.dtype() != storage) uncond = ops::cast(s, uncond, storage);
  // Cases without a recorded latent/noise/sigmas start from EmptyLatentImage and KSampler's own rules.
  const bool recorded = g.file->find("latent_in") && g.file->find("noise") && g.file->find("sigmas");
  Shape ls = g.file->find("latent_in")
                 ? g.shape("latent_in")
                 : Shape{1, 4, std::stoll(c.param("height", "64")) / 8, std::stoll(c.param("width", "64")) / 8};
  std::vector<float> latent_v = g.file->find("latent_in") ? g.get("latent_in") : std::vector<float>(size_t(shape_numel(ls)), 0.0f);
  Tensor latent = from_host(s, ls, DType::F32, latent_v);
  std::vector<float> sigmas;
  std::vector<float> noise;
  if (e2e || !recorded) {
    sigmas = sampling::ksampler_sigmas(ms, c.param("scheduler"), sampler, std::stoi(c.param("steps")),
                                       std::stod(c.param("denoise", "1.0")));
    noise = sampling::prepare_noise(seed, ls);
  } else {
    sigmas = g.get("sigmas");
    noise = g.get("noise");
  }
  Tensor noise_t = from_host(s, ls, DType::F32, noise);
  std::vector<std::vector<float>> steps;
  sampling::SampleOptions opt;
  opt.seed = seed;
  opt.on_step = [&](const sampling::StepInfo& st) { steps.push_back(to_host(s, st.x)); };
  auto denoiser = sampling::cfg_denoiser(*m.unet, ms, {cond, uncond, cfg});
  Tensor samples = sampling::ksampler_sample(s, sampler, denoiser, latent, noise_t, sigmas, ms, opt);
  if (!e2e) {
    auto want_steps = g.get("steps_x");
    size_t per = size_t(shape_numel(ls));
    ASSERT_EQ(steps.size() * per, want_steps.size()) << tag << ": callback count";
    for (size_t i = 0; i < steps.size(); ++i) {
      std::vector<float> w(want_steps.begin() + long(i * per), want_steps.begin() + long((i + 1) * per));
      EXPECT_TRUE(within(steps[i], w, atol, rtol, tag + " step " + std::to_string(i)));
    }
  }
  EXPECT_TRUE(within(to_host(s, samples), g.get("samples"), atol, rtol, tag + " samples"));
  if (e2e) {
    Tensor img = ops::permute(s, m.vae->decode(s, samples), {0, 2, 3, 1});  // [B, H, W, 3]
    auto got = to_host(s, img);
    EXPECT_TRUE(within(got, g.get("image"), atol, rtol, tag + " image"));
    auto want_u8 = g.file->to_int64(*g.file->find("image_u8"));
    double sum = 0;
    int64_t worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      int64_t u8 = int64_t(std::min(255.0f, std::max(0.0f, 255.0f * got[i])));  // SaveImage: clip, truncate
      int64_t d = std::llabs(u8 - want_u8[i]);
      worst = std::max(worst, d);
      sum += double(d);
    }
    std::printf("[golden] %-44s max %lld levels, mean %.3f\n", (tag + " image_u8").c_str(), (long long)worst,
                sum / double(got.size()));
    EXPECT_LE(worst, 2) << tag;
    EXPECT_LT(sum / double(got.size()), 0.5) << tag;
  }
}

class GoldenTest : public ::testing::TestWithParam<std::tuple<Case, DType>> {};

TEST_P(GoldenTest, MatchesComfyUI) {
  const auto& [c, storage] = GetParam();
  Golden g{model::SafetensorsFile::open(golden_dir() + "/" + c.file)};
  const auto& m = models(c.checkpoint, storage);
  vk::Stream s(context());
  const double atol = storage == DType::F32 ? c.atol : std::max(c.atol, f16_atol(c));
  const double rtol = storage == DType::F32 ? c.rtol : std::max(c.rtol, 1e-2);
  const std::string tag = std::string(dtype_name(storage)) + " " + c.group + "/" + c.name;

  if (c.kind == "clip") {
    auto ids_f = g.file->to_int64(*g.file->find("tokens"));
    Shape ts = g.shape("tokens");
    std::vector<float> weights = g.file->find("weights") ? g.get("weights") : std::vector<float>(ids_f.size(), 1.0f);
    std::vector<model::TokenChunk> chunks(static_cast<size_t>(ts[0]));
    for (int64_t r = 0; r < ts[0]; ++r)
      for (int64_t j = 0; j < ts[1]; ++j) {
        size_t i = size_t(r * ts[1] + j);
        chunks[size_t(r)].push_back({int32_t(ids_f[i]), double(weights[i]), 0, -1, 0});
      }
    for (const char* layer : {"last", "penultimate"}) {
      if (!g.file->find(std::string("cond_") + layer)) continue;
      auto out = m.clip->encode(s, chunks, std::string(layer) == "last" ? -1 : -2);
      EXPECT_TRUE(within(to_host(s, out.hidden), g.get(std::string("cond_") + layer), atol, rtol,
                         tag + " cond_" + layer));
      EXPECT_TRUE(within(to_host(s, out.pooled), g.get(std::string("pooled_") + layer), atol, rtol,
                         tag + " pooled_" + layer));
    }
  } else if (c.kind == "unet" || c.kind == "unet_denoiser") {
    Tensor x = from_host(s, g.shape("x"), DType::F32, g.get("x"));
    Tensor ctx = from_host(s, g.shape("context"), storage, g.get("context"));
    if (c.kind == "unet") {
      auto t = g.get("timesteps");
      Tensor eps = m.unet->forward(s, x, t, ctx);
      EXPECT_TRUE(within(to_host(s, eps), g.get("eps"), atol, rtol, tag + " eps"));
    } else {
      static sampling::ModelSamplingDiscrete ms;
      auto sig = g.get("sigma");
      Tensor d = model::eps_denoise(s, *m.unet, ms, x, sig, ctx);
      EXPECT_TRUE(within(to_host(s, d), g.get("denoised"), atol, rtol, tag + " denoised"));
    }
  } else if (c.kind == "vae_decode") {
    Tensor lat = from_host(s, g.shape("latent"), DType::F32, g.get("latent"));
    Tensor img = m.vae->decode(s, lat);                            // [B, 3, H, W]
    Tensor nhwc = ops::permute(s, img, {0, 2, 3, 1});               // ComfyUI's IMAGE layout
    EXPECT_TRUE(within(to_host(s, nhwc), g.get("image"), atol, rtol, tag + " image"));
  } else if (c.kind == "vae_encode") {
    Shape is = g.shape("image");  // [B, H, W, 3]
    Tensor img = ops::permute(s, from_host(s, is, DType::F32, g.get("image")), {0, 3, 1, 2});
    // VAEEncode center-crops to multiples of 8.
    int64_t h8 = is[1] / 8 * 8, w8 = is[2] / 8 * 8, oy = (is[1] % 8) / 2, ox = (is[2] % 8) / 2;
    if (h8 != is[1]) img = ops::slice(s, img, 2, oy, oy + h8);
    if (w8 != is[2]) img = ops::slice(s, img, 3, ox, ox + w8);
    Tensor lat = m.vae->encode(s, img);
    EXPECT_TRUE(within(to_host(s, lat), g.get("latent"), atol, rtol, tag + " latent"));
  } else if (c.kind == "ksampler" || c.kind == "ksampler_img2img" || c.kind == "e2e") {
    run_sampling_case(s, c, g, m, storage, atol, rtol, tag);
  }
}

std::vector<std::tuple<Case, DType>> params() {
  std::vector<std::tuple<Case, DType>> out;
  for (auto& c : model_cases()) {
    out.emplace_back(c, DType::F32);
    // Sampler runs amplify activation rounding step after step: they are checked in f32 storage.
    bool sampling = c.kind == "ksampler" || c.kind == "ksampler_img2img" || c.kind == "e2e";
    if (context().caps().fp16_storage && !sampling) out.emplace_back(c, DType::F16);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(ComfyUI, GoldenTest, ::testing::ValuesIn(params()), [](const auto& info) {
  const Case& c = std::get<0>(info.param);
  std::string n = std::string(dtype_name(std::get<1>(info.param))) + "_" + c.group + "_" + c.name;
  for (auto& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
});

}  // namespace
}  // namespace vkdream::test
