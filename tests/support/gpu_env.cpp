#include "support/gpu_env.h"

#include <cstdlib>
#include <memory>

namespace vkdream::test {

vk::Context& context() {
  static std::unique_ptr<vk::Context> ctx = std::make_unique<vk::Context>();
  return *ctx;
}

std::vector<Precision> precisions() {
  std::vector<Precision> out{{DType::F32, false, "f32"}};
  const auto& caps = context().caps();
  if (caps.fp16_storage) out.push_back({DType::F16, false, "f16"});
  if (caps.fp16_arithmetic) out.push_back({DType::F16, true, "f16a"});
  return out;
}

std::string precision_name(const Precision& p) { return p.name; }

bool quick() {
  const char* v = std::getenv("VKDREAM_TEST_QUICK");
  return v && *v && std::string(v) != "0";
}

}  // namespace vkdream::test
