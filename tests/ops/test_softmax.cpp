// Softmax over the last dim against a double-precision CPU reference.
#include <gtest/gtest.h>

#include <sstream>

#include "ops/softmax.h"
#include "reference/attention_ref.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

std::vector<Shape> shapes() {
  std::vector<Shape> s = {{1}, {7}, {3, 5}, {2, 3, 77}, {5, 1000}, {16, 8, 4096}, {2, 12, 77, 77}};
  if (!quick()) s.push_back({70000, 9});  // more rows than one grid dimension holds
  return s;
}

class SoftmaxTest : public ::testing::TestWithParam<std::tuple<Shape, Precision>> {};

TEST_P(SoftmaxTest, MatchesReference) {
  auto [shape, prec] = GetParam();
  TestStream ts(prec);
  auto xv = random_normal(size_t(shape_numel(shape)), 5, 3.0f, prec.dtype == DType::F16);
  xv[0] += 50.0f;  // large values: the max must be subtracted
  Tensor x = from_host(ts.s, shape, prec.dtype, xv);
  auto got = to_host(ts.s, ops::softmax(ts.s, x));
  std::ostringstream params;
  params << "softmax x=" << shape_str(shape) << " " << prec.name;
  EXPECT_TRUE(close_nmse(got, softmax_ref(xv, shape.back()), default_tolerance(prec.name), params.str()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SoftmaxTest,
                         ::testing::Combine(::testing::ValuesIn(shapes()), ::testing::ValuesIn(precisions())),
                         [](const auto& info) {
                           std::string n = "x";
                           for (auto d : std::get<0>(info.param)) n += "_" + std::to_string(d);
                           return n + "_" + precision_name(std::get<1>(info.param));
                         });

TEST(SoftmaxErrors, RejectsIndexTensors) {
  TestStream ts(precisions()[0]);
  Tensor x = Tensor::empty(context(), {4}, DType::I32);
  EXPECT_THROW(ops::softmax(ts.s, x), std::invalid_argument);
}

}  // namespace
}  // namespace vkdream::test
