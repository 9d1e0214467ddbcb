// The host side of the C GPU service ("vkd.gpu", include/vkdream/plugin_gpu.h): third-party plugins create and
// read device tensors, wrap them as IMAGE/MASK/LATENT objects (the same payloads the in-tree packs use), and
// dispatch their own SPIR-V through the core's pipeline cache and streams.
#pragma once

#include "graph/core_services.h"
#include "vkdream/plugin_gpu.h"

namespace vkdream::graph {

// The service table for `core` (one per engine; the table lives as long as the returned object).
class GpuService {
 public:
  explicit GpuService(CoreServices& core);
  const VkdGpuService* table() const { return &table_; }
  CoreServices& core() { return core_; }

 private:
  CoreServices& core_;
  VkdGpuService table_{};
};

}  // namespace vkdream::graph
