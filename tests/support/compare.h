// Comparing a GPU result with a CPU reference: NaN/Inf first (position and value), then the
// normalized MSE sum((got-want)^2) / sum(want^2) against a tolerance. Messages carry the op's
// parameters so a failing case says which.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace vkdream::test {

::testing::AssertionResult close_nmse(const std::vector<float>& got, const std::vector<double>& want,
                                      double tolerance, const std::string& params);
// Same, over sampled positions: want[k] is the reference at got index idx[k].
::testing::AssertionResult close_nmse_at(const std::vector<float>& got, const std::vector<int64_t>& idx,
                                         const std::vector<double>& want, double tolerance,
                                         const std::string& params);

// Normal(0, stddev) values from a fixed seed; `round_f16` rounds them to f16-representable
// values so f16 variants see exactly the reference's inputs.
std::vector<float> random_normal(size_t n, uint32_t seed, float stddev = 1.0f, bool round_f16 = false);
std::vector<float> random_uniform(size_t n, uint32_t seed, float lo, float hi, bool round_f16 = false);
// Up to `count` distinct sorted indices in [0, n), all of them when n <= count.
std::vector<int64_t> sample_indices(int64_t n, int64_t count, uint32_t seed);

// Tolerances by precision, for ops whose error is a few roundings per output.
double default_tolerance(const char* precision_name);

}  // namespace vkdream::test
