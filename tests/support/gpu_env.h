// The Vulkan context shared by a test process, and the precision variants to test on it.
#pragma once
#include <string>
#include <vector>

#include "tensor/tensor.h"
#include "vulkan/context.h"
#include "vulkan/stream.h"

namespace vkdream::test {

// Created on first use (VKDREAM_DEVICE and VKDREAM_VALIDATION apply); lives for the process.
vk::Context& context();

// A precision variant: tensor dtype plus whether ops may compute in f16.
struct Precision {
  DType dtype;
  bool f16_arithmetic;
  const char* name;  // "f32", "f16", "f16a"
};
// The variants the test device supports: f32 always, f16 storage and f16 arithmetic when present.
std::vector<Precision> precisions();
// Gtest parameter name printer for Precision.
std::string precision_name(const Precision& p);

// True when VKDREAM_TEST_QUICK is set (the validation pass): tests then skip their largest shapes,
// which exercise no other API path, to keep the suite's time down.
bool quick();

// A stream on the shared context with the precision's arithmetic setting.
struct TestStream {
  explicit TestStream(const Precision& p) : s(context()) { s.set_f16_arithmetic(p.f16_arithmetic); }
  vk::Stream s;
};

}  // namespace vkdream::test
