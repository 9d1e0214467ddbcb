// Model weights on the device: tensors read from a validated safetensors file, converted to the
// storage dtype (f16 by default, f32 on request) and uploaded once into the context's weight pool.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "model/safetensors.h"
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::model {

class WeightError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Weights {
 public:
  // Uploads every tensor whose name starts with `prefix` (the prefix is dropped from the stored
  // names), converting to `storage`. Submits the stream in batches so staging memory stays bounded.
  Weights(vk::Stream& s, const SafetensorsFile& file, const std::string& prefix, DType storage);
  Weights() = default;

  // The tensor named `name` (without the prefix); WeightError naming it when absent.
  const Tensor& get(const std::string& name) const;
  const Tensor* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
  DType storage() const { return storage_; }
  size_t bytes() const;
  // Replaces a tensor (LoRA patching writes patched copies here).
  void set(const std::string& name, Tensor t) { tensors_[name] = std::move(t); }
  const std::map<std::string, Tensor>& all() const { return tensors_; }

 private:
  std::map<std::string, Tensor> tensors_;
  std::string label_;
  DType storage_ = DType::F16;
};

// A view of `w` under a sub-path: scope("encoder.layers.0.").get("mlp.fc1.weight").
class WeightScope {
 public:
  WeightScope(const Weights& w, std::string path) : w_(&w), path_(std::move(path)) {}
  const Tensor& operator[](const std::string& name) const { return w_->get(path_ + name); }
  const Tensor* find(const std::string& name) const { return w_->find(path_ + name); }
  WeightScope sub(const std::string& name) const { return WeightScope(*w_, path_ + name + "."); }

 private:
  const Weights* w_;
  std::string path_;
};

}  // namespace vkdream::model
