// Test main: runs the suite, then fails the process if the validation layer reported errors.
#include <gtest/gtest.h>

#include <cstdio>

#include "support/gpu_env.h"

namespace {
class ValidationCheck : public ::testing::Environment {
 public:
  void TearDown() override {
    auto& ctx = vkdream::test::context();
    if (ctx.validation_enabled()) {
      std::printf("[vkdream] validation layer on: %llu error(s)\n",
                  static_cast<unsigned long long>(ctx.validation_errors()));
      EXPECT_EQ(ctx.validation_errors(), 0u) << "the Khronos validation layer reported errors (see stderr)";
    }
  }
};
}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new ValidationCheck);
  return RUN_ALL_TESTS();
}
