// The C++ service the in-tree node packs use: the device (opened on first use), the CLIP tokenizer, and the
// storage-dtype policy. It is a host service like any other ("vkdream.core"), so packs still meet the core only
// through the plugin ABI's service lookup; but its table hands out C++ objects, so only plugins linked against
// this same libvkdream_core may use it (the build id is compared). Third-party plugins use the C services.
#pragma once

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "graph/host.h"
#include "model/clip_tokenizer.h"
#include "tensor/tensor.h"
#include "vulkan/context.h"
#include "vkdream/version.h"

#define VKDREAM_STR_(x) #x
#define VKDREAM_STR(x) VKDREAM_STR_(x)

namespace vkdream::graph {

#define VKDREAM_CORE_SERVICE "vkdream.core"

class CoreServices {
 public:
  explicit CoreServices(Host& host);
  ~CoreServices();

  // The compute device, opened on the first call (VKDREAM_DEVICE picks it; see vk::ContextOptions).
  vk::Context& context();
  bool has_context() const;
  // The CLIP BPE tokenizer (assets/clip), loaded once.
  const model::CLIPTokenizer& clip_tokenizer();
  Host& host() { return host_; }

  // Storage dtype for a checkpoint's weights: VKDREAM_WEIGHT_DTYPE=f16|f32 if set; otherwise f32 on a CPU
  // device (what ComfyUI does on the CPU, and what the goldens were made with) and f16 on a GPU.
  DType weight_dtype();

  // Compiled into the core and, through this inline function, into every pack: equal only when they match.
  static const char* build_id() { return "vkdream-core " VKD_VERSION_STRING " cpp" VKDREAM_STR(__cplusplus); }

 private:
  Host& host_;
  mutable std::mutex mu_;
  std::unique_ptr<vk::Context> ctx_;
  std::unique_ptr<model::CLIPTokenizer> tokenizer_;
};

// The service table registered under VKDREAM_CORE_SERVICE.
struct VkdCoreService {
  uint32_t struct_size;
  uint32_t version;  // 1
  const char* build_id;
  CoreServices* core;
};

// Plugin side: the core services of `host`; throws std::runtime_error when absent or from another build.
inline CoreServices& core_services(const VkdHost* host) {
  if (!host || !host->get_service) throw std::runtime_error("no plugin host");
  auto* t = static_cast<const VkdCoreService*>(host->get_service(host, VKDREAM_CORE_SERVICE, 1));
  if (!t || !t->core) throw std::runtime_error("the host offers no vkdream.core service");
  if (std::string(t->build_id) != CoreServices::build_id())
    throw std::runtime_error(std::string("node pack built for another vkdream core (") + t->build_id + ")");
  return *t->core;
}

// Where the CLIP tokenizer files live: $VKDREAM_ASSETS_DIR/clip, <exe>/../share/vkdream/assets/clip, or the
// source tree's assets/clip.
std::string clip_assets_dir();

}  // namespace vkdream::graph
