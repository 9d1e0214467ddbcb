#include "bench/peak.h"

#include <algorithm>

#include "bench/timing.h"
#include "ops/op_util.h"
#include "tensor/tensor.h"
#include "vulkan/context.h"

namespace vkdream::bench {

double measure_fma_peak_gflops(vk::Stream& s, vk::Variant variant) {
  const uint32_t wg = 256, iterations = 256;
  // Enough invocations to fill every core of a large GPU; lavapipe is full with far fewer.
  bool cpu = s.ctx().caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU;
  uint32_t groups = cpu ? 64 : 4096;
  DType dt = variant == vk::Variant::kF32 ? DType::F32 : DType::F16;
  Tensor out = Tensor::empty(s.ctx(), {int64_t(groups) * wg}, dt);
  auto& p = ops::pipeline(s, "bench/fma_peak", variant, 1, {wg, 1, 1});
  struct {
    uint32_t iterations;
    float seed;
  } pc{iterations, 1.0f};
  double ms = time_ms(s, [&] { s.dispatch(p, {}, {out.ref()}, pc, groups); });
  double flops = double(groups) * wg * iterations * 768.0;  // 384 FMAs per iteration
  return flops / (ms * 1e6);
}

double measure_copy_gbps(vk::Stream& s) {
  const uint32_t wg = 256;
  const uint64_t bytes = std::min<uint64_t>(64ull << 20, s.ctx().caps().max_storage_buffer_range);
  const uint32_t count = uint32_t(bytes / 16);
  Tensor a = Tensor::empty(s.ctx(), {int64_t(count) * 4}, DType::F32);
  Tensor b = Tensor::empty(s.ctx(), {int64_t(count) * 4}, DType::F32);
  s.fill_zero(a.ref());
  uint32_t groups = std::min<uint32_t>(ops::ceil_div(count, wg), s.ctx().caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU ? 64 : 8192);
  auto& p = ops::pipeline(s, "bench/copy_peak", vk::Variant::kF32, 2, {wg, 1, 1});
  struct {
    uint32_t count, stride;
  } pc{count, groups * wg};
  double ms = time_ms(s, [&] { s.dispatch(p, {a.ref()}, {b.ref()}, pc, groups); });
  double gbps = 2.0 * double(count) * 16 / (ms * 1e6);
  // A CPU device's lane shaders read texels and store 8 values at once: their peak is that copy's.
  if (ops::cpu_lanes(s, DType::F32) && ops::texel4_view(s, a.ref(), DType::F32)) {
    auto& pw = ops::pipeline(s, "bench/copy_peak_wide", vk::Variant::kF32, 2, {wg, 1, 1}, {},
                             {VK_FORMAT_R32G32B32A32_SFLOAT});
    struct {
      uint32_t count, stride;
    } pcw{count / 2, groups * wg};
    double msw = time_ms(s, [&] { s.dispatch(pw, {a.ref()}, {b.ref()}, pcw, groups); });
    gbps = std::max(gbps, 2.0 * double(count / 2) * 32 / (msw * 1e6));
  }
  return gbps;
}

}  // namespace vkdream::bench
