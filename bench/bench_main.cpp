// vkdream-bench: measures the hot SD1.5 ops on the chosen Vulkan device against the device's own
// peaks measured in the same run.
//   vkdream-bench ops [--json] [--precision f32|f16|f16a|all] [--filter SUBSTR] [--profile]
//   vkdream-bench devices
//   vkdream-bench make-checkpoint [PATH] [--f32]     (see model_bench.h)
//   vkdream-bench unet [--size N] [--checkpoint PATH] [--precision f32|f16|f16a] [--repeat N] [--profile]
//       [--profile-shapes]
#include <cstdio>
#include <cstring>
#include <exception>
#include <set>
#include <string>
#include <vector>

#include "bench/model_bench.h"
#include "bench/op_cases.h"
#include "bench/peak.h"
#include "bench/profile.h"
#include "bench/timing.h"
#include "vulkan/context.h"

using namespace vkdream;

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: vkdream-bench ops [--json] [--precision f32|f16|f16a|all] [--filter SUBSTR] [--profile]\n"
               "       vkdream-bench devices\n"
               "       vkdream-bench make-checkpoint [PATH] [--f32]\n"
               "       vkdream-bench unet [--size N] [--checkpoint PATH] [--precision f32|f16|f16a] [--repeat N] [--profile]\n"
               "                          [--profile-shapes]\n"
               "VKDREAM_DEVICE selects the device (index or name).\n");
  return 2;
}

struct Row {
  std::string op, shape, precision;
  double ms, gflops, peak_gflops, fraction, gbps, peak_gbps;
  bool memory_bound;
  std::string note;
};

void print_header(const vk::Context& ctx, double copy_gbps) {
  std::printf("device: %s\n", ctx.caps().name.c_str());
  std::printf("measured copy bandwidth: %.1f GB/s\n", copy_gbps);
  std::printf("%-12s %-30s %-5s %10s %10s %10s %9s\n", "op", "shape", "prec", "ms", "GFLOP/s", "peak", "fraction");
  std::fflush(stdout);
}

void print_row(const Row& r) {
  if (r.memory_bound)
    std::printf("%-12s %-30s %-5s %10.3f %7.1f GB/s %6.1f GB/s %8.1f%%\n", r.op.c_str(), r.shape.c_str(),
                r.precision.c_str(), r.ms, r.gbps, r.peak_gbps, 100 * r.fraction);
  else
    std::printf("%-12s %-30s %-5s %10.3f %10.1f %10.1f %8.1f%%\n", r.op.c_str(), r.shape.c_str(),
                r.precision.c_str(), r.ms, r.gflops, r.peak_gflops, 100 * r.fraction);
  std::fflush(stdout);  // rows appear as they are measured
}

void print_json_row(const vk::Context& ctx, const Row& r) {
  std::printf(
      "{\"device\":\"%s\",\"op\":\"%s\",\"shape\":\"%s\",\"precision\":\"%s\",\"ms\":%.4f,\"gflops\":%.2f,"
      "\"peak_gflops\":%.2f,\"fraction\":%.4f,\"gbps\":%.2f,\"peak_gbps\":%.2f,\"bound\":\"%s\"%s%s%s}\n",
      ctx.caps().name.c_str(), r.op.c_str(), r.shape.c_str(), r.precision.c_str(), r.ms, r.gflops, r.peak_gflops,
      r.fraction, r.gbps, r.peak_gbps, r.memory_bound ? "memory" : "compute", r.note.empty() ? "" : ",\"note\":\"",
      r.note.c_str(), r.note.empty() ? "" : "\"");
  std::fflush(stdout);
}

int run_ops(int argc, char** argv) {
  bool json = false, profile = false;
  std::string precision = "f32", filter;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--precision") && i + 1 < argc) precision = argv[++i];
    else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!std::strcmp(argv[i], "--profile")) profile = true;
    else return usage();
  }
  vk::Context ctx;
  vk::Stream s(ctx, profile);
  std::vector<bench::Precision> precs;
  for (auto& p : bench::precisions(ctx))
    if (precision == "all" || precision == p.name) precs.push_back(p);
  if (precs.empty()) {
    std::fprintf(stderr, "precision '%s' is not available on %s\n", precision.c_str(), ctx.caps().name.c_str());
    return 2;
  }
  double copy_gbps = bench::measure_copy_gbps(s);
  std::set<std::string> notes;
  if (!json) print_header(ctx, copy_gbps);
  auto emit = [&](const Row& r) {
    if (json) print_json_row(ctx, r);
    else print_row(r);
  };
  for (auto& prec : precs) {
    s.set_f16_arithmetic(prec.f16_arithmetic);
    // The peak that matters is the arithmetic the op's inner loop runs: f32 unless f16a.
    double peak = bench::measure_fma_peak_gflops(s, prec.f16_arithmetic ? vk::Variant::kF16Arith : vk::Variant::kF32);
    emit({"fma_peak", "-", prec.name, 0, peak, peak, 1.0, 0, copy_gbps, false});
    for (auto& c : bench::op_cases()) {
      if (!filter.empty() && c.op.find(filter) == std::string::npos) continue;
      auto record = c.setup(s, prec.dtype);
      double ms = bench::time_ms(s, record);
      Row r{c.op, c.shape, prec.name, ms, 0, peak, 0, 0, copy_gbps, c.memory_bound};
      r.gflops = c.flops / (ms * 1e6);
      r.gbps = c.bytes(prec.dtype) / (ms * 1e6);
      r.fraction = c.memory_bound ? r.gbps / copy_gbps : r.gflops / peak;
      r.note = c.note;
      emit(r);
      if (!c.note.empty()) notes.insert(c.note);
      if (profile && !json) {  // one more call, alone in its submit, broken down by dispatch
        record();
        s.submit();
        bench::print_profile(s, c.op.c_str(), 12, true);
      }
    }
  }
  if (!json)
    for (auto& n : notes) std::printf("note: %s\n", n.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  try {
    if (!std::strcmp(argv[1], "devices")) {
      for (auto& d : vk::Context::list_devices()) std::printf("%s\n", d.c_str());
      return 0;
    }
    if (!std::strcmp(argv[1], "ops")) return run_ops(argc, argv);
    if (!std::strcmp(argv[1], "make-checkpoint")) return bench::run_make_checkpoint(argc, argv);
    if (!std::strcmp(argv[1], "unet")) return bench::run_model_bench(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vkdream-bench: %s\n", e.what());
    return 1;
  }
  return usage();
}
