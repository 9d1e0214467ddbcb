// The SD1.5 discrete schedule and every ComfyUI scheduler, raw and after KSampler's denoise and
// discard-penultimate rules, against the golden sigma lists.
#include <gtest/gtest.h>

#include <cmath>

#include "model/safetensors.h"
#include "sampling/golden_index.h"
#include "sampling/schedulers.h"

namespace vkdream::test {
namespace {

struct SigmaCase {
  std::string tensor, scheduler, sampler;
  int steps;
  double denoise;  // < 0: raw calculate_sigmas
};

struct Golden {
  std::unique_ptr<model::SafetensorsFile> file;
  std::vector<SigmaCase> cases;
  double atol, rtol;
};

const Golden& golden() {
  static Golden g = [] {
    Golden out;
    for (auto c : golden_index()["cases"].get_array()) {
      if (std::string_view(c["group"].get_string()) != "schedulers") continue;
      out.file = model::SafetensorsFile::open(golden_dir() + "/" + std::string(std::string_view(c["file"].get_string())));
      out.atol = double(c["tolerance"]["atol"]);
      out.rtol = double(c["tolerance"]["rtol"]);
      for (auto e : c["entries"].get_array()) {
        SigmaCase s;
        s.tensor = std::string(std::string_view(e["tensor"].get_string()));
        s.scheduler = std::string(std::string_view(e["scheduler"].get_string()));
        s.steps = int(int64_t(e["steps"]));
        s.denoise = -1;
        if (e["denoise"].is_number()) {
          s.denoise = double(e["denoise"]);
          s.sampler = std::string(std::string_view(e["sampler"].get_string()));
        }
        out.cases.push_back(s);
      }
    }
    return out;
  }();
  return g;
}

const sampling::ModelSamplingDiscrete& sd15() {
  static sampling::ModelSamplingDiscrete ms;
  return ms;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double atol, double rtol,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << what << " at " << i;
      continue;
    }
    EXPECT_LE(std::fabs(double(got[i]) - want[i]), atol + rtol * std::fabs(want[i]))
        << what << " at " << i << ": " << got[i] << " vs " << want[i];
  }
}

TEST(ModelSampling, TableMatchesComfyUI) {
  const auto& g = golden();
  auto sigmas = g.file->to_float(*g.file->find("model_sampling.sigmas"));
  auto logs = g.file->to_float(*g.file->find("model_sampling.log_sigmas"));
  EXPECT_EQ(sd15().sigmas(), sigmas);  // float64 math rounded to float32: bit-exact
  expect_close(sd15().log_sigmas(), logs, 0, 1e-7, "log_sigmas");
  EXPECT_EQ(sd15().timestep(sd15().sigma_max()), 999);
  EXPECT_EQ(sd15().timestep(sd15().sigma_min()), 0);
  EXPECT_FLOAT_EQ(sd15().sigma(999.0f), sd15().sigma_max());
}

class SchedulerGolden : public ::testing::TestWithParam<SigmaCase> {};

TEST_P(SchedulerGolden, MatchesComfyUI) {
  const auto& c = GetParam();
  const auto& g = golden();
  auto want = g.file->to_float(*g.file->find(c.tensor));
  auto got = c.denoise < 0 ? sampling::calculate_sigmas(sd15(), c.scheduler, c.steps)
                           : sampling::ksampler_sigmas(sd15(), c.scheduler, c.sampler, c.steps, c.denoise);
  expect_close(got, want, g.atol, g.rtol, c.tensor);
}

INSTANTIATE_TEST_SUITE_P(ComfyUI, SchedulerGolden, ::testing::ValuesIn(golden().cases), [](const auto& info) {
  std::string n = info.param.tensor;
  for (auto& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
});

TEST(Schedulers, UnknownNameIsAnError) {
  EXPECT_THROW(sampling::calculate_sigmas(sd15(), "nope", 10), std::invalid_argument);
  EXPECT_THROW(sampling::calculate_sigmas(sd15(), "karras", 0), std::invalid_argument);
  EXPECT_TRUE(sampling::ksampler_sigmas(sd15(), "karras", "euler", 10, 0.0).empty());
}

}  // namespace
}  // namespace vkdream::test
