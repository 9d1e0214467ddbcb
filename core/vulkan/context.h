// The Vulkan instance, the chosen device, its capabilities, and the services built on them
// (memory pools, pipeline cache). One Context per device; Streams record work against it.
#pragma once
#include <vulkan/vulkan.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vkdream::vk {

class MemoryPool;
class PipelineCache;

// What the chosen device can do; ops read these instead of assuming limits.
struct DeviceCaps {
  std::string name;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  uint32_t vendor_id = 0;
  uint32_t api_version = 0;
  bool fp16_storage = false;     // storageBuffer16BitAccess
  bool fp16_arithmetic = false;  // shaderFloat16
  // shaderInt64: the texel family of shaders (lavapipe's path) stores 8 floats at once as a u64vec4 (see
  // shaders/common/wide_store.glsl) and needs it.
  bool int64 = false;
  uint32_t subgroup_size = 1;
  uint64_t max_storage_buffer_range = 0;  // bytes one binding may see
  uint64_t min_storage_offset_alignment = 16;
  uint32_t max_shared_memory = 0;  // bytes per workgroup
  uint32_t max_workgroup_invocations = 0;
  uint32_t max_workgroup_size[3] = {0, 0, 0};
  uint32_t max_workgroup_count[3] = {0, 0, 0};
  // Texel buffers (ops may read operands through VkBufferViews; see PipelineKey::texel_formats).
  uint64_t max_texel_buffer_elements = 0;
  uint64_t min_texel_buffer_offset_alignment = 16;
  bool storage_texel_rgba32f = false;  // R32G32B32A32_SFLOAT usable as a storage texel buffer
  bool storage_texel_rgba16f = false;  // R16G16B16A16_SFLOAT usable as a storage texel buffer
  bool storage_texel_r32f = false;     // R32_SFLOAT (one value per texel)
  bool storage_texel_r16f = false;     // R16_SFLOAT
  // Subgroup operations supported in compute shaders (VkPhysicalDeviceSubgroupProperties).
  bool subgroup_shuffle = false;
  bool subgroup_arithmetic = false;
  bool subgroup_ballot = false;
  bool timestamps = false;
  float timestamp_period_ns = 1.0f;
  uint64_t device_local_bytes = 0;
  bool unified_memory = false;  // device-local memory that is also host visible (lavapipe, ReBAR)
};

struct ContextOptions {
  // Device by index or by (case-insensitive) name substring; empty: VKDREAM_DEVICE, then the
  // first discrete GPU, integrated GPU, virtual GPU, CPU in that order.
  std::string device;
  // Enable VK_LAYER_KHRONOS_validation (also when VKDREAM_VALIDATION=1); messages at error
  // severity are counted and logged.
  bool validation = false;
  // Caps max_storage_buffer_range (bytes one binding may see) below what the device reports, so tests
  // can make small tensors take the ops' split-over-the-binding paths (and as a workaround for drivers
  // that misreport it). 0: VKDREAM_MAX_BINDING_BYTES when set, else the device's value. Never raises it.
  uint64_t max_binding_bytes = 0;
  // Bytes of data derived from model weights that may be kept next to them (conv2d's Winograd-transformed 3x3
  // weights, 16/9 or 4x the conv weights in f32, made once instead of at every call); past it, derived data is
  // made per call. -1: VKDREAM_WINOGRAD_CACHE_MB (MiB; 0 turns it off) when set, else half the device's memory
  // (on a CPU device, whose heap size says little: half the machine's RAM).
  int64_t transformed_weights_budget = -1;
};

class Context {
 public:
  explicit Context(const ContextOptions& options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  VkInstance instance() const { return instance_; }
  VkPhysicalDevice physical_device() const { return physical_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  const DeviceCaps& caps() const { return caps_; }

  MemoryPool& weights() { return *weights_; }        // long-lived tensors (model weights)
  MemoryPool& activations() { return *activations_; }  // the arena reused between ops and requests
  MemoryPool& staging() { return *staging_; }        // host-visible upload/download buffers
  PipelineCache& pipelines() { return *pipelines_; }

  // Validation messages of error severity seen so far (0 unless validation is on).
  uint64_t validation_errors() const { return validation_errors_.load(); }
  bool validation_enabled() const { return validation_enabled_; }
  // The budget above, and its use: reserve() is false (and reserves nothing) where `bytes` would pass it.
  uint64_t transformed_weights_budget() const { return transformed_budget_; }
  bool reserve_transformed_weights(uint64_t bytes);
  void release_transformed_weights(uint64_t bytes) { transformed_used_ -= bytes; }
  uint64_t transformed_weights_bytes() const { return transformed_used_; }
  void count_validation_error() { validation_errors_++; }

  // Pushes descriptors with vkCmdPushDescriptorSetKHR (VK_KHR_push_descriptor).
  PFN_vkCmdPushDescriptorSetKHR cmd_push_descriptor_set = nullptr;

  // Lists the devices this machine offers, for logs and `vkdream-bench devices`.
  static std::vector<std::string> list_devices();

 private:
  void create_instance(bool validation);
  void pick_device(const std::string& selector);
  void create_device();

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  DeviceCaps caps_;
  bool validation_enabled_ = false;
  uint64_t transformed_budget_ = 0;
  std::atomic<uint64_t> transformed_used_{0};
  std::atomic<uint64_t> validation_errors_{0};
  std::unique_ptr<MemoryPool> weights_, activations_, staging_;
  std::unique_ptr<PipelineCache> pipelines_;
};

}  // namespace vkdream::vk
