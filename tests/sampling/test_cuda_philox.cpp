// PyTorch's CUDA randn reproduced on the CPU (core/sampling/cuda_philox.h): Philox4x32-10 against
// Random123's known-answer vectors, the launch policy, the element layout over several grid rounds,
// the offset advance across draws, and published torch.randn(..., device="cuda") outputs.
//
// Published values are printed by torch to 4 decimals, so they are compared at 6e-5: 5e-5 of
// printing plus 1e-5 for the GPU's arithmetic, which we do not reproduce bit for bit (it computes
// sin/cos with __sincosf, about 2^-21 absolute error, times a radius of at most 6.8; logf to 1 ulp).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sampling/cuda_philox.h"

namespace vkdream::test {
namespace {

using sampling::CudaDeviceShape;
using sampling::CudaGenerator;
using sampling::PhiloxCounter;

constexpr double kPrintedTol = 6e-5;

// Sources of the published values (all torch.randn / normal_ in float32 on CUDA):
//   [79496]  github.com/pytorch/pytorch/issues/79496 (torch 1.11): manual_seed(10); randn(3)
//   [62467]  pytorch issue 62467, RTX A6000: Generator.manual_seed(43); (1,3,128,128).normal_(), [..., 0, 0]
//   [158398] pytorch issue 158398: randn([1,64,2048], Generator.manual_seed(42)), row ends
//   [143086] pytorch issue 143086 (torch 2.5.1): Generator.manual_seed(1); randn(1, 9483264) on H100 / A100
//   [97097]  pytorch issue 97097 (torch 2.0), RTX A4000: manual_seed(14); FloatTensor(1000,100).normal_(5, 5**.5)
//   [lecture] a CUDA MODE lecture write-up (libtorch 2.2.1+cu121, sm_75): manual_seed(0); randn(8,10); randn(10)

TEST(CudaPhilox, Philox4x32_10MatchesRandom123KnownAnswers) {
  // Random123 tests/kat_vectors, "philox4x32 10": counter (4 words), key (2 words) -> output.
  struct Kat {
    PhiloxCounter ctr;
    sampling::PhiloxKey key;
    PhiloxCounter want;
  } kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& k : kats) EXPECT_EQ(sampling::philox4x32_10(k.ctr, k.key), k.want);
}

TEST(CudaPhilox, BoxMullerOrderAndConstants) {
  // x = 0 gives the smallest u = 2^-33 (largest radius, sqrt(66 ln 2)); y = 0 gives v = pi * 2^-32.
  // curand returns (r sin v, r cos v) for each pair.
  auto r = sampling::curand_box_muller4({0, 0, 0xffffffffu, 0x80000000u});
  const double radius = std::sqrt(66.0 * std::log(2.0)), v0 = M_PI * std::ldexp(1.0, -32);
  EXPECT_NEAR(r[0], radius * std::sin(v0), 1e-12);
  EXPECT_NEAR(r[1], radius, 1e-6);
  // x = 2^32-1: u rounds to 1 in float, radius 0; y = 2^31: v = pi (+ half a step).
  EXPECT_EQ(r[2], 0.0f);
  EXPECT_EQ(r[3], 0.0f);
}

TEST(CudaPhilox, LaunchPolicy) {
  const CudaDeviceShape rtx4090{128, 1536}, a100{108, 2048}, turing{40, 1024};
  EXPECT_EQ(rtx4090.max_blocks(), 768u);
  EXPECT_EQ(a100.max_blocks(), 864u);
  EXPECT_EQ(turing.max_blocks(), 160u);
  auto l = sampling::cuda_randn_launch(3, rtx4090);
  EXPECT_EQ(l.grid, 1u);
  EXPECT_EQ(l.counter_offset, 4u);
  l = sampling::cuda_randn_launch(16384, rtx4090);  // a 512x512 SD1.5 latent: one float per thread
  EXPECT_EQ(l.grid, 64u);
  EXPECT_EQ(l.counter_offset, 4u);
  l = sampling::cuda_randn_launch(4 * 196608, rtx4090);  // 4 floats per thread, still one curand_normal4
  EXPECT_EQ(l.grid, 768u);
  EXPECT_EQ(l.counter_offset, 4u);
  l = sampling::cuda_randn_launch(4 * 196608 + 1, rtx4090);  // a second call per thread
  EXPECT_EQ(l.counter_offset, 8u);
  EXPECT_THROW(CudaGenerator(0, CudaDeviceShape{0, 1536}), std::invalid_argument);
  EXPECT_THROW(CudaGenerator(0, CudaDeviceShape{10, 128}), std::invalid_argument);
}

TEST(CudaPhilox, ElementLayoutAcrossGridRoundsAndOffsetAdvance) {
  // 4 blocks of 256 threads: element t + 1024*(4k + ii) is float ii of thread t's k-th curand_normal4,
  // i.e. of the Philox block at counter (offset/4 + k, 0, t, 0) under key (seed lo, seed hi).
  const CudaDeviceShape small{2, 512};
  const uint64_t seed = 0x0123456789abcdefull;
  const sampling::PhiloxKey key{0x89abcdefu, 0x01234567u};
  const int64_t n = 1024 * 4 * 2 + 777;  // three rounds, the last one partial
  CudaGenerator g(seed, small);
  EXPECT_EQ(sampling::cuda_randn_launch(n, small).counter_offset, 12u);
  std::vector<float> direct(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) direct[size_t(i)] = g.randn_element(n, i);
  std::vector<float> v = g.randn(n);
  ASSERT_EQ(v, direct);
  for (uint32_t t : {0u, 1u, 513u, 1023u}) {
    for (uint32_t k = 0; k < 3; ++k) {
      auto want = sampling::curand_box_muller4(sampling::philox4x32_10({k, 0, t, 0}, key));
      for (uint32_t ii = 0; ii < 4; ++ii) {
        const int64_t li = t + 1024 * (4 * k + ii);
        if (li < n) {
          EXPECT_EQ(v[size_t(li)], want[ii]) << "t " << t << " k " << k << " ii " << ii;
        }
      }
    }
  }
  // The offset advanced by 3 calls' worth; the next draw starts at counter 3 and does not repeat.
  EXPECT_EQ(g.offset(), 12u);
  std::vector<float> w = g.randn(5);
  for (uint32_t t = 0; t < 5; ++t)
    EXPECT_EQ(w[t], sampling::curand_box_muller4(sampling::philox4x32_10({3, 0, t, 0}, key))[0]) << t;
  EXPECT_EQ(g.offset(), 16u);
  g.manual_seed(seed);
  EXPECT_EQ(g.offset(), 0u);
  EXPECT_EQ(g.randn(n), v);
}

void expect_printed(const std::vector<float>& got, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], kPrintedTol) << what << " value " << i;
}

TEST(CudaPhilox, MatchesPublishedSmallDraws) {
  CudaGenerator g10(10);
  expect_printed(g10.randn(3), {-0.1029, 1.6810, -0.2708}, "[79496] seed 10");

  CudaGenerator g43(43);  // 49152 values: one per thread of 192 blocks on any GPU with >= 192 blocks
  auto v = g43.randn(3 * 128 * 128);
  expect_printed({v[0], v[16384], v[32768]}, {1.9983, 0.8704, 2.1127}, "[62467] seed 43");

  // Two successive draws: randn(8, 10) leaves the offset at 4, so randn(10) reads counter 1.
  CudaGenerator g0(0);
  auto x = g0.randn(80);
  const std::vector<double> want_x = {
      -0.9247, -0.4253, -2.6438, 0.1452,  -0.1209, -0.5797, -0.6229, -0.3284, -1.0745, -0.3631,
      -1.6711, 2.2655,  0.3117,  -0.1842, 1.2866,  1.1820,  -0.1271, 1.2169,  1.4353,  1.0605,
      -0.4941, -1.4244, -0.7244, -1.2973, 0.0697,  -0.0074, 1.8969,  0.6878,  -0.0779, -0.8373,
      1.3506,  -0.2879, -0.5965, -0.3283, -0.9086, -0.8059, -0.7407, -0.0504, 0.5435,  1.5150,
      0.0141,  0.4532,  1.6349,  0.7124,  -0.1806, 1.0252,  -1.4622, -0.7554, -0.1836, 0.3824,
      0.3918,  -0.0830, 0.8971,  -1.1123, 0.1116,  0.4863,  -0.5499, -0.3231, -0.5469, 0.9049,
      0.2837,  0.1210,  0.4730,  -1.0823, -0.0334, -0.9734, 0.9559,  -1.1795, -1.0064, 0.1160,
      0.6852,  -0.4124, -0.6738, -0.5404, 0.6898,  -1.5517, 0.3805,  -0.0436, 0.3597,  -0.5043};
  expect_printed(x, want_x, "[lecture] seed 0, first draw");
  EXPECT_EQ(g0.offset(), 4u);
  expect_printed(g0.randn(10), {0.1808, -0.5523, 0.9238, -0.7350, 1.3800, 0.8676, 0.1297, -0.9406, 0.8109, 0.8821},
                 "[lecture] seed 0, second draw");
}

// Row starts and ends of a [64, 2048] draw. The first rows are the same on every GPU; rows 61..63 lie
// past the first 168*256 elements, so they depend on the grid. The issue does not name its GPU: 168
// blocks (e.g. an RTX 3060: 28 SMs x 1536 threads) is the only grid of 1..511 blocks that gives its values.
TEST(CudaPhilox, MatchesPublishedDrawOnAGpuWith168Blocks) {
  auto row = [](const std::vector<float>& v, int r) {
    const size_t b = size_t(r) * 2048;
    return std::vector<float>{v[b], v[b + 1], v[b + 2], v[b + 2045], v[b + 2046], v[b + 2047]};
  };
  CudaGenerator g(42, CudaDeviceShape{28, 1536});
  auto v = g.randn(64 * 2048);
  expect_printed(row(v, 0), {0.1940, 2.1614, -0.1721, 1.4540, -2.7733, -0.8932}, "[158398] row 0");
  expect_printed(row(v, 1), {-0.4574, 0.8063, 0.1580, 0.1124, 0.2769, -1.2535}, "[158398] row 1");
  expect_printed(row(v, 2), {1.1346, -0.6329, -0.9147, -1.0001, -1.1552, -0.6955}, "[158398] row 2");
  expect_printed(row(v, 61), {-0.4861, 0.3358, 1.0578, -0.7282, 0.5087, 0.1318}, "[158398] row 61");
  expect_printed(row(v, 62), {0.7881, 0.8339, -1.1424, -0.6297, -1.1112, -0.4091}, "[158398] row 62");
  expect_printed(row(v, 63), {-1.2356, -0.4083, -0.4695, -0.4841, 1.2850, -0.0282}, "[158398] row 63");
  // On the default device (768 blocks: one round) the first rows agree and row 63 does not.
  auto d = CudaGenerator(42).randn(64 * 2048);
  EXPECT_EQ(row(d, 0), row(v, 0));
  EXPECT_GT(std::abs(row(d, 63)[0] - row(v, 63)[0]), 1e-3);
}

TEST(CudaPhilox, MatchesPublishedLargeDrawsOnH100AndA100) {
  // 9483264 values: 35 per thread on an H100 SXM (132 SMs x 2048 threads: 1056 blocks), 43 on an
  // A100 (108 x 2048: 864 blocks). The first values agree, the last ones are each card's own.
  const int64_t n = 1 * 49 * 12 * 112 * 144;
  auto ends = [n](const CudaGenerator& g) {
    return std::vector<float>{g.randn_element(n, 0),     g.randn_element(n, 1),     g.randn_element(n, 2),
                              g.randn_element(n, n - 3), g.randn_element(n, n - 2), g.randn_element(n, n - 1)};
  };
  expect_printed(ends(CudaGenerator(1, CudaDeviceShape{132, 2048})),
                 {-0.2963, 2.6764, -0.1408, -0.6970, -0.7780, 0.3267}, "[143086] H100");
  expect_printed(ends(CudaGenerator(1, CudaDeviceShape{108, 2048})),
                 {-0.2963, 2.6764, -0.1408, 0.1549, -0.6797, -0.1656}, "[143086] A100");
}

TEST(CudaPhilox, MatchesPublishedNormalOnRtxA4000) {
  // 100000 values on 48 SMs x 1536 threads (288 blocks): the last rows come from each thread's
  // second float. normal_(mean 5, std sqrt 5) is randn * std + mean in float.
  CudaGenerator g(14, CudaDeviceShape{48, 1536});
  auto v = g.randn(1000 * 100);
  const float std_dev = float(std::sqrt(5.0));
  auto row = [&](int r) {
    std::vector<float> out;
    for (int c : {0, 1, 2, 97, 98, 99}) out.push_back(v[size_t(r * 100 + c)] * std_dev + 5.0f);
    return out;
  };
  expect_printed(row(0), {2.8731, 5.2727, 2.9889, 1.6853, 9.6331, 6.6319}, "[97097] row 0");
  expect_printed(row(1), {3.9968, 3.8097, 5.7328, 4.4029, 3.9804, 7.4698}, "[97097] row 1");
  expect_printed(row(2), {6.5552, 4.0857, 4.2315, 2.7704, 3.5479, 3.3063}, "[97097] row 2");
  expect_printed(row(997), {8.6297, 2.3137, 6.2596, 7.9358, 4.4697, 2.7475}, "[97097] row 997");
  expect_printed(row(998), {7.0551, 7.8583, 3.9990, 4.1139, 8.9315, 4.2042}, "[97097] row 998");
  expect_printed(row(999), {2.7337, 2.2106, 7.7815, 8.2207, 6.5395, 4.2604}, "[97097] row 999");
}

}  // namespace
}  // namespace vkdream::test
