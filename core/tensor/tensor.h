// A dense, contiguous, row-major tensor in device memory: shape, dtype (f32/f16) and a
// refcounted allocation + byte offset. Copies share storage; reshape/slice make views.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tensor/half.h"
#include "vulkan/memory.h"
#include "vulkan/stream.h"

namespace vkdream {

// I32 holds indices (token ids); arithmetic ops take F32 or F16.
enum class DType : uint8_t { F32 = 0, F16 = 1, I32 = 2 };
inline size_t dtype_size(DType t) { return t == DType::F16 ? 2 : 4; }
const char* dtype_name(DType t);

using Shape = std::vector<int64_t>;
int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);

class Tensor {
 public:
  Tensor() = default;
  // Allocates from the context's activation arena (or `pool` if given). Contents undefined.
  static Tensor empty(vk::Context& ctx, Shape shape, DType dtype, vk::MemoryPool* pool = nullptr);

  bool defined() const { return alloc_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return int(shape_.size()); }
  // Dimension i; negative counts from the end.
  int64_t dim(int i) const { return shape_.at(i < 0 ? shape_.size() + i : i); }
  int64_t numel() const { return shape_numel(shape_); }
  DType dtype() const { return dtype_; }
  size_t bytes() const { return size_t(numel()) * dtype_size(dtype_); }
  std::string str() const;  // "[2, 320, 64, 64] f16"

  // The device range this tensor occupies, for binding.
  vk::BufferRef ref() const;
  // Same storage, new shape with the same element count (throws otherwise).
  Tensor reshape(Shape shape) const;
  // Contiguous slice along dim 0: rows [begin, begin + count).
  Tensor slice0(int64_t begin, int64_t count) const;
  const std::shared_ptr<vk::Allocation>& allocation() const { return alloc_; }

 private:
  std::shared_ptr<vk::Allocation> alloc_;
  uint64_t offset_ = 0;  // bytes into the allocation
  Shape shape_;
  DType dtype_ = DType::F32;
};

// Host <-> device helpers, recorded in stream order (values appear at the stream's submit).
// Host data is float; f16 tensors are converted on the host.
void upload(vk::Stream& s, const Tensor& t, const std::vector<float>& values);
// Synchronous convenience: upload + submit, or download + submit.
Tensor from_host(vk::Stream& s, const Shape& shape, DType dtype, const std::vector<float>& values);
std::vector<float> to_host(vk::Stream& s, const Tensor& t);
// Index tensors (DType::I32).
Tensor from_host_i32(vk::Stream& s, const Shape& shape, const std::vector<int32_t>& values);


}  // namespace vkdream
