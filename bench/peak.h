// The device's measured peaks, taken in the same run as the op timings so ratios are fair.
#pragma once
#include "vulkan/shader_registry.h"
#include "vulkan/stream.h"

namespace vkdream::bench {

// FMA throughput of shaders/bench/fma_peak.comp in GFLOP/s for the given precision variant.
double measure_fma_peak_gflops(vk::Stream& s, vk::Variant variant);
// Streaming copy bandwidth of shaders/bench/copy_peak.comp in GB/s (bytes read + written); on a CPU device the
// better of that and copy_peak_wide.comp (texel reads, 8-value stores: how its lane shaders move data).
double measure_copy_gbps(vk::Stream& s);

}  // namespace vkdream::bench
