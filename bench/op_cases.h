// The benchmarked ops at their SD1.5 shapes.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"
#include "vulkan/context.h"
#include "vulkan/stream.h"

namespace vkdream::bench {

struct Precision {
  DType dtype;
  bool f16_arithmetic;
  const char* name;
};
std::vector<Precision> precisions(const vk::Context& ctx);

struct OpCase {
  std::string op, shape;
  double flops;  // useful arithmetic per call
  std::string note;  // how flops is counted, where the op may do less arithmetic than that (printed with the table)
  bool memory_bound;
  std::function<double(DType)> bytes;  // minimum bytes moved per call (read once, written once)
  // Creates inputs on the stream's device and returns a function that records one call.
  std::function<std::function<void()>(vk::Stream&, DType)> setup;
};
const std::vector<OpCase>& op_cases();

}  // namespace vkdream::bench
