#include "bench/model_bench.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/op_cases.h"
#include "bench/peak.h"
#include "bench/profile.h"
#include "bench/sd15_flops.h"
#include "model/sd15_checkpoint.h"
#include "model/tiny_sd15.h"
#include "sampling/model_sampling.h"
#include "vulkan/context.h"
#include "vulkan/memory.h"

namespace vkdream::bench {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

// Where make-checkpoint writes and unet reads by default: next to the binary (the build folder).
std::string default_checkpoint(const char* argv0) {
  if (const char* e = std::getenv("VKDREAM_BENCH_CHECKPOINT")) return e;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  fs::path dir = ec ? fs::path(argv0).parent_path() : self.parent_path();
  return (dir / "bench-models" / "sd15-generated-f16.safetensors").string();
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Runs `work` (which records and submits) twice: the first creates pipelines and scratch memory; the second
// is the measurement.
// One warm-up run, then `repeat` timed runs: their median (this machine's runs vary by a few percent).
double time_warm_s(int repeat, const std::function<void()>& work) {
  work();
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = clock_type::now();
    work();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double peak_device_bytes(vk::Context& ctx) {
  return double(ctx.weights().stats().peak_used_bytes + ctx.activations().stats().peak_used_bytes);
}

bool all_finite(vk::Stream& s, const Tensor& t) {
  for (float v : to_host(s, t))
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace

int run_make_checkpoint(int argc, char** argv) {
  std::string path;
  bool f32 = false;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--f32")) f32 = true;
    else if (path.empty() && argv[i][0] != '-') path = argv[i];
    else {
      std::fprintf(stderr, "usage: vkdream-bench make-checkpoint [PATH] [--f32]\n");
      return 2;
    }
  }
  if (path.empty()) path = default_checkpoint(argv[0]);
  fs::create_directories(fs::path(path).parent_path());
  auto t0 = clock_type::now();
  uint64_t bytes = model::write_generated_sd15(
      path, model::sd15_base_config(), f32 ? model::TinyPrecision::F32 : model::TinyPrecision::F16,
      "full-size SD1.5-shaped checkpoint of generated weights for vkdream-bench; not a model, never commit it");
  std::printf("wrote %s (%.2f GB) in %.0f s\n", path.c_str(), double(bytes) / 1e9, seconds_since(t0));
  return 0;
}

int run_model_bench(int argc, char** argv) {
  int size = 256;
  std::string checkpoint = default_checkpoint(argv[0]);
  std::string precision;
  bool profile = false, shapes = false;
  int repeat = 1;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--profile")) profile = true;
    else if (!std::strcmp(argv[i], "--profile-shapes")) profile = shapes = true;
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--size") && i + 1 < argc) size = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--checkpoint") && i + 1 < argc) checkpoint = argv[++i];
    else if (!std::strcmp(argv[i], "--precision") && i + 1 < argc) precision = argv[++i];
    else {
      std::fprintf(stderr, "usage: vkdream-bench unet [--size N] [--checkpoint PATH] [--precision f32|f16|f16a] "
                           "[--repeat N] [--profile] [--profile-shapes]\n");
      return 2;
    }
  }
  if (size < 64 || size % 8 != 0) {
    std::fprintf(stderr, "--size must be a multiple of 8, at least 64\n");
    return 2;
  }
  if (!fs::exists(checkpoint)) {
    std::fprintf(stderr, "no checkpoint at %s: run bench/make-full-checkpoint first (or pass --checkpoint)\n",
                 checkpoint.c_str());
    return 2;
  }
  vk::Context ctx;
  vk::Stream s(ctx, profile);
  // The server's default: f32 weights on a CPU device (lavapipe converts f16 on every load), f16 elsewhere.
  if (precision.empty()) precision = ctx.caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU ? "f32" : "f16";
  const Precision* prec = nullptr;
  auto precs = precisions(ctx);
  for (auto& p : precs)
    if (p.name == precision) prec = &p;
  if (!prec) {
    std::fprintf(stderr, "precision '%s' is not available on %s\n", precision.c_str(), ctx.caps().name.c_str());
    return 2;
  }
  s.set_f16_arithmetic(prec->f16_arithmetic);
  const double peak = measure_fma_peak_gflops(s, prec->f16_arithmetic ? vk::Variant::kF16Arith : vk::Variant::kF32);
  std::printf("device: %s\nprecision: %s (weights and activations %s)\nmeasured FMA peak: %.1f GFLOP/s\n",
              ctx.caps().name.c_str(), prec->name, prec->dtype == DType::F16 ? "f16" : "f32", peak);

  auto t0 = clock_type::now();
  model::SD15Models m = model::load_sd15_checkpoint(s, checkpoint, prec->dtype);
  std::printf("loaded %s in %.1f s\n", checkpoint.c_str(), seconds_since(t0));
  if (repeat > 1) std::printf("each stage: the median of %d timed runs after a warm-up run\n", repeat);
  std::printf("%-26s %10s %10s %10s %12s\n", "stage", "s", "GFLOP/s", "of peak", "GFLOP");
  auto row = [&](const char* stage, double secs, double flops) {
    double gflops = flops / secs / 1e9;
    std::printf("%-26s %10.3f %10.1f %9.1f%% %12.1f\n", stage, secs, gflops, 100 * gflops / peak, flops / 1e9);
    std::fflush(stdout);
  };

  const int64_t lh = size / 8, lw = size / 8;
  // Text encoder: the positive and negative prompt rows together.
  std::vector<int32_t> ids(2 * 77, 49407);
  ids[0] = ids[77] = 49406;
  Tensor ids_t = from_host_i32(s, {2, 77}, ids);
  Tensor context;
  double clip_s = time_warm_s(repeat, [&] {
    context = m.clip->forward(s, ids_t, -1);
    s.submit();
  });
  row("text encoder (2 x 77)", clip_s, clip_flops(m.config.clip, 2, 77));
  if (profile) print_profile(s, "text encoder");

  // One cfg step: cond and uncond in one batch-2 UNet call.
  sampling::ModelSamplingDiscrete ms;
  std::vector<float> noise(size_t(2 * 4 * lh * lw));
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = float(std::sin(0.37 * double(i)) * 14.6);
  Tensor x = from_host(s, {2, 4, lh, lw}, prec->dtype, noise);
  const float sigma = 14.6146f;
  Tensor eps;
  double unet_s = time_warm_s(repeat, [&] {
    eps = model::eps_denoise(s, *m.unet, ms, x, {sigma, sigma}, context);
    s.submit();
  });
  char label[64];
  std::snprintf(label, sizeof label, "unet cfg step (2x%dx%d)", size, size);
  row(label, unet_s, unet_flops(m.config.unet, 2, lh, lw));
  if (profile) print_profile(s, "unet");
  if (shapes) print_profile_shapes(s, "unet");

  Tensor latent = x.slice0(0, 1);
  Tensor image;
  double vae_s = time_warm_s(repeat, [&] {
    image = m.vae->decode(s, latent);
    s.submit();
  });
  std::snprintf(label, sizeof label, "vae decode (1x%dx%d)", size, size);
  row(label, vae_s, vae_decode_flops(m.config.vae, 1, lh, lw));
  if (profile) print_profile(s, "vae decode");
  if (shapes) print_profile_shapes(s, "vae decode");
  std::printf("peak device memory: %.2f GB (weights %.2f GB)\n", peak_device_bytes(ctx) / 1e9,
              double(ctx.weights().stats().peak_used_bytes) / 1e9);
  std::printf("outputs finite: text %s, unet %s, vae %s\n", all_finite(s, context) ? "yes" : "NO",
              all_finite(s, eps) ? "yes" : "NO", all_finite(s, image) ? "yes" : "NO");
  return 0;
}

}  // namespace vkdream::bench
