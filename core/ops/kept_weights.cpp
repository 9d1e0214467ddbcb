#include "ops/kept_weights.h"

#include <mutex>

#include "vulkan/context.h"

namespace vkdream::ops::detail {

std::shared_ptr<std::vector<Tensor>> kept_derived(vk::Context& ctx, const Tensor& weight, const std::string& key,
                                                  uint64_t bytes, const MakeDerived& make) {
  vk::Allocation& wa = *weight.allocation();
  if (wa.pool != &ctx.weights() || ctx.transformed_weights_budget() == 0) return nullptr;
  const std::string full_key = key + " " + std::to_string(weight.ref().offset) + " " + weight.str();
  std::lock_guard<std::mutex> lock(wa.derived_mu);
  if (auto it = wa.derived.find(full_key); it != wa.derived.end())
    return std::static_pointer_cast<std::vector<Tensor>>(it->second);
  if (!ctx.reserve_transformed_weights(bytes)) return nullptr;
  std::shared_ptr<std::vector<Tensor>> made;
  try {
    vk::Stream ws(ctx);
    made = make(ws, &ctx.weights());
    ws.submit();
  } catch (...) {
    ctx.release_transformed_weights(bytes);
    throw;
  }
  // The reservation goes back with the entry, when the weight's allocation goes.
  auto release = [&ctx, bytes](std::vector<Tensor>* p) {
    delete p;
    ctx.release_transformed_weights(bytes);
  };
  std::shared_ptr<std::vector<Tensor>> entry(new std::vector<Tensor>(std::move(*made)), release);
  wa.derived[full_key] = entry;
  return entry;
}

}  // namespace vkdream::ops::detail
