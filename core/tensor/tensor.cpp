#include "tensor/tensor.h"

#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "vulkan/context.h"

namespace vkdream {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "f32";
    case DType::F16:
      return "f16";
    case DType::I32:
      return "i32";
  }
  return "?";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + shape_str(s));
    if (d != 0 && n > INT64_MAX / d) throw std::overflow_error("shape " + shape_str(s) + " overflows");
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

std::string Tensor::str() const { return shape_str(shape_) + " " + dtype_name(dtype_); }

Tensor Tensor::empty(vk::Context& ctx, Shape shape, DType dtype, vk::MemoryPool* pool) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.dtype_ = dtype;
  size_t bytes = t.bytes();
  t.alloc_ = (pool ? *pool : ctx.activations()).allocate(bytes ? bytes : 4);
  return t;
}

vk::BufferRef Tensor::ref() const {
  if (!alloc_) throw std::logic_error("binding an undefined tensor");
  size_t b = bytes();
  // A binding's range must be non-zero; round to 4 bytes so f16 tensors of odd length bind.
  return {alloc_->buffer, alloc_->offset + offset_, b ? (b + 3) / 4 * 4 : 4};
}

Tensor Tensor::reshape(Shape shape) const {
  if (shape_numel(shape) != numel())
    throw std::invalid_argument("cannot reshape " + str() + " to " + shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::slice0(int64_t begin, int64_t count) const {
  if (rank() == 0 || begin < 0 || count < 0 || begin + count > shape_[0])
    throw std::out_of_range("slice0 [" + std::to_string(begin) + ", +" + std::to_string(count) + ") of " + str());
  Tensor t = *this;
  int64_t row = shape_[0] ? numel() / shape_[0] : 0;
  t.offset_ += uint64_t(begin * row) * dtype_size(dtype_);
  t.shape_[0] = count;
  return t;
}

void upload(vk::Stream& s, const Tensor& t, const std::vector<float>& values) {
  if (t.dtype() == DType::I32) throw std::invalid_argument("upload of floats into index tensor " + t.str());
  if (int64_t(values.size()) != t.numel())
    throw std::invalid_argument("upload of " + std::to_string(values.size()) + " values into " + t.str());
  if (t.dtype() == DType::F32) {
    s.upload(t.ref(), values.data(), values.size() * 4);
  } else {
    std::vector<uint16_t> h(values.size());
    for (size_t i = 0; i < h.size(); ++i) h[i] = float_to_half(values[i]);
    s.upload(t.ref(), h.data(), h.size() * 2);
  }
}

Tensor from_host(vk::Stream& s, const Shape& shape, DType dtype, const std::vector<float>& values) {
  Tensor t = Tensor::empty(s.ctx(), shape, dtype);
  upload(s, t, values);
  s.submit();
  return t;
}

Tensor from_host_i32(vk::Stream& s, const Shape& shape, const std::vector<int32_t>& values) {
  Tensor t = Tensor::empty(s.ctx(), shape, DType::I32);
  if (int64_t(values.size()) != t.numel())
    throw std::invalid_argument("upload of " + std::to_string(values.size()) + " indices into " + t.str());
  s.upload(t.ref(), values.data(), values.size() * 4);
  s.submit();
  return t;
}

std::vector<float> to_host(vk::Stream& s, const Tensor& t) {
  std::vector<float> out(size_t(t.numel()));
  if (t.dtype() == DType::I32) {
    std::vector<int32_t> v(out.size());
    s.download(t.ref(), v.data(), v.size() * 4);
    s.submit();
    for (size_t i = 0; i < v.size(); ++i) out[i] = float(v[i]);
  } else if (t.dtype() == DType::F32) {
    s.download(t.ref(), out.data(), out.size() * 4);
    s.submit();
  } else {
    std::vector<uint16_t> h(out.size());
    s.download(t.ref(), h.data(), h.size() * 2);
    s.submit();
    for (size_t i = 0; i < h.size(); ++i) out[i] = half_to_float(h[i]);
  }
  return out;
}

}  // namespace vkdream
