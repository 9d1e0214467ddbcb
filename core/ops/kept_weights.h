// Data derived from a model weight (Winograd-transformed conv filters, GEGLU-interleaved projection rows), kept
// with the weight instead of being remade at every call.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops::detail {

// The tensors that `make` records from `weight` on the stream it is given, kept with the weight's allocation under
// `key` (and made once: the first call makes them) when the weight is a model weight (weights-pool allocations are
// written once, at loading or LoRA patching, then only read) and the context's transformed-weights budget has
// `bytes` left; they go, with their share of the budget, when the allocation goes. Made on a stream of their own
// and submitted at once, so an entry exists only once its values do (the caller's stream may yet be dropped, e.g.
// by an interrupt). Returns nullptr where nothing can be kept: the caller then makes them on its own stream.
using MakeDerived = std::function<std::shared_ptr<std::vector<Tensor>>(vk::Stream&, vk::MemoryPool*)>;
std::shared_ptr<std::vector<Tensor>> kept_derived(vk::Context& ctx, const Tensor& weight, const std::string& key,
                                                  uint64_t bytes, const MakeDerived& make);

}  // namespace vkdream::ops::detail
