// Seed -> noise exactly as ComfyUI's prepare_noise (PyTorch's CPU generator and randn), against
// the golden noise tensors, including 64-bit seeds and batch_index.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "model/safetensors.h"
#include "sampling/golden_index.h"
#include "sampling/torch_rng.h"

namespace vkdream::test {
namespace {

struct NoiseCase {
  std::string name, file;
  uint64_t seed;
  std::vector<int64_t> shape, batch_index;
  double atol;
};

std::vector<NoiseCase> noise_cases() {
  std::vector<NoiseCase> out;
  for (auto c : golden_index()["cases"].get_array()) {
    if (std::string_view(c["group"].get_string()) != "noise") continue;
    NoiseCase n;
    n.name = std::string(std::string_view(c["name"].get_string()));
    n.file = std::string(std::string_view(c["file"].get_string()));
    n.seed = std::stoull(std::string(std::string_view(c["seed_str"].get_string())));
    for (auto d : c["shape"].get_array()) n.shape.push_back(int64_t(d));
    auto bi = c["batch_index"];
    if (bi.is_array())
      for (auto d : bi.get_array()) n.batch_index.push_back(int64_t(d));
    n.atol = double(c["tolerance"]["atol"]);
    out.push_back(n);
  }
  return out;
}

class NoiseGolden : public ::testing::TestWithParam<NoiseCase> {};

TEST_P(NoiseGolden, MatchesComfyUI) {
  const auto& c = GetParam();
  auto file = model::SafetensorsFile::open(golden_dir() + "/" + c.file);
  auto want = file->to_float(*file->find("noise"));
  auto got = sampling::prepare_noise(c.seed, c.shape, c.batch_index.empty() ? nullptr : &c.batch_index);
  ASSERT_EQ(got.size(), want.size());
  // PyTorch's vectorised path uses SLEEF's log/sin/cos (1-ulp accuracy); ours are libm's, so values
  // may differ in the last bits, never by more than a few ulp.
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_LE(std::fabs(double(got[i]) - want[i]), c.atol) << c.name << " at " << i << ": " << got[i] << " vs " << want[i];
    int32_t a, b;
    std::memcpy(&a, &got[i], 4);
    std::memcpy(&b, &want[i], 4);
    ASSERT_LE(std::abs(int64_t(a) - int64_t(b)), 4) << c.name << " at " << i << ": " << got[i] << " vs " << want[i];
  }
}

INSTANTIATE_TEST_SUITE_P(ComfyUI, NoiseGolden, ::testing::ValuesIn(noise_cases()),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (auto& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(TorchGenerator, Mt19937MatchesTheStandardSequence) {
  sampling::TorchGenerator g(5489);  // std::mt19937's default seed: the 10000th value is 4123659995
  uint32_t v = 0;
  for (int i = 0; i < 10000; ++i) v = g.random();
  EXPECT_EQ(v, 4123659995u);
}

TEST(PrepareNoise, RejectsBadBatchIndex) {
  std::vector<int64_t> wrong_len{0};
  EXPECT_THROW(sampling::prepare_noise(1, {2, 4, 8, 8}, &wrong_len), std::invalid_argument);
  std::vector<int64_t> negative{0, -1};
  EXPECT_THROW(sampling::prepare_noise(1, {2, 4, 8, 8}, &negative), std::invalid_argument);
}

}  // namespace
}  // namespace vkdream::test
