// Compute pipelines, created on first use and cached by (shader, variant, workgroup size,
// specialization constants). Every pipeline takes its buffers as push descriptors (bindings
// 0..n-1, inputs first, then outputs) and up to 128 bytes of push constants.
#pragma once
#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vulkan/shader_registry.h"

namespace vkdream::vk {

class Context;

constexpr uint32_t kMaxPushConstantBytes = 128;

struct PipelineKey {
  std::string shader;  // "family/op"
  Variant variant = Variant::kF32;
  std::array<uint32_t, 3> workgroup{64, 1, 1};  // spec constants 0..2
  std::vector<uint32_t> spec;                   // spec constants 3.. in order
  uint32_t bindings = 0;                        // storage buffers 0..bindings-1
  // Per binding: VK_FORMAT_UNDEFINED (or absent) = storage buffer; any other format = storage texel buffer
  // (imageBuffer) of that format, bound through a VkBufferView the Stream creates for the dispatch.
  std::vector<VkFormat> texel_formats;
  auto tie() const { return std::tie(shader, variant, workgroup, spec, bindings, texel_formats); }
  bool operator<(const PipelineKey& o) const { return tie() < o.tie(); }
};

struct Pipeline {
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  std::string label;  // "family/op[variant]" for timings and errors
  std::vector<VkFormat> texel_formats;  // as in PipelineKey (empty: all storage buffers)
  VkFormat texel_format(uint32_t binding) const {
    return binding < texel_formats.size() ? texel_formats[binding] : VK_FORMAT_UNDEFINED;
  }
};

class PipelineCache {
 public:
  explicit PipelineCache(Context& ctx);
  ~PipelineCache();
  // Throws VulkanError naming the shader when it is missing or fails to build.
  const Pipeline& get(const PipelineKey& key);
  size_t size() const;

 private:
  VkPipelineLayout layout_for(uint32_t bindings, const std::vector<VkFormat>& texel_formats);
  Context& ctx_;
  mutable std::mutex mu_;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  // By descriptor types (VkDescriptorType per binding).
  std::map<std::vector<int>, std::pair<VkDescriptorSetLayout, VkPipelineLayout>> layouts_;
  std::map<std::string, VkShaderModule> modules_;  // by "name:variant"
  std::map<PipelineKey, std::unique_ptr<Pipeline>> pipelines_;
};

}  // namespace vkdream::vk
