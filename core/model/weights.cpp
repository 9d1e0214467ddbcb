#include "model/weights.h"

#include "tensor/half.h"
#include "vulkan/context.h"

namespace vkdream::model {

Weights::Weights(vk::Stream& s, const SafetensorsFile& file, const std::string& prefix, DType storage)
    : label_(file.path()), storage_(storage) {
  const size_t kBatchBytes = 256ull << 20;
  size_t pending = 0;
  for (const auto& info : file.tensors()) {
    if (info.name.compare(0, prefix.size(), prefix) != 0) continue;
    if (info.dtype != StDType::F32 && info.dtype != StDType::F16 && info.dtype != StDType::BF16) continue;
    std::string name = info.name.substr(prefix.size());
    Shape shape(info.shape.begin(), info.shape.end());
    if (shape.empty()) shape = {1};
    Tensor t = Tensor::empty(s.ctx(), shape, storage, &s.ctx().weights());
    if (storage == DType::F16 && info.dtype == StDType::F16) {
      s.upload(t.ref(), file.data(info), info.end - info.begin);  // no conversion needed
    } else {
      upload(s, t, file.to_float(info));
    }
    tensors_[name] = t;
    pending += t.bytes();
    if (pending >= kBatchBytes) {
      s.submit();
      pending = 0;
    }
  }
  s.submit();
}

const Tensor* Weights::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const Tensor& Weights::get(const std::string& name) const {
  if (auto* t = find(name)) return *t;
  throw WeightError("weight '" + name + "' is missing from '" + label_ + "'");
}

size_t Weights::bytes() const {
  size_t n = 0;
  for (auto& [k, t] : tensors_) n += t.bytes();
  return n;
}

}  // namespace vkdream::model
