// Timing recorded GPU work: warm up once, then time `reps` recordings submitted together and
// keep the best of a few rounds (these machines are noisy; ratios within one run are what we report).
#pragma once
#include <chrono>
#include <functional>

#include "vulkan/stream.h"

namespace vkdream::bench {

// Returns milliseconds per call of `record` (which records, never submits).
inline double time_ms(vk::Stream& s, const std::function<void()>& record, double target_s = 0.4, int rounds = 3) {
  using clock = std::chrono::steady_clock;
  record();  // warm-up: pipelines are created here
  s.submit();
  auto t0 = clock::now();
  record();
  s.submit();
  double one = std::chrono::duration<double>(clock::now() - t0).count();
  if (one >= target_s) return one * 1e3;  // slow ops: the warmed-up call is the measurement
  int reps = one > 0 ? int(target_s / one) : 50;
  reps = reps < 1 ? 1 : (reps > 50 ? 50 : reps);
  double best = one * 1e3;
  for (int r = 0; r < rounds; ++r) {
    auto a = clock::now();
    for (int i = 0; i < reps; ++i) record();
    s.submit();
    double ms = std::chrono::duration<double, std::milli>(clock::now() - a).count() / reps;
    if (ms < best) best = ms;
  }
  return best;
}

}  // namespace vkdream::bench
