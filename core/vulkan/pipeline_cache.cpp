#include "vulkan/pipeline_cache.h"

#include "vulkan/context.h"
#include "vulkan/error.h"

namespace vkdream::vk {

PipelineCache::PipelineCache(Context& ctx) : ctx_(ctx) {
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  VKD_CHECK(vkCreatePipelineCache(ctx_.device(), &ci, nullptr, &cache_));
}

PipelineCache::~PipelineCache() {
  VkDevice d = ctx_.device();
  for (auto& [k, p] : pipelines_) vkDestroyPipeline(d, p->pipeline, nullptr);
  for (auto& [k, m] : modules_) vkDestroyShaderModule(d, m, nullptr);
  for (auto& [n, l] : layouts_) {
    vkDestroyPipelineLayout(d, l.second, nullptr);
    vkDestroyDescriptorSetLayout(d, l.first, nullptr);
  }
  vkDestroyPipelineCache(d, cache_, nullptr);
}

size_t PipelineCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pipelines_.size();
}

VkPipelineLayout PipelineCache::layout_for(uint32_t bindings, const std::vector<VkFormat>& texel_formats) {
  std::vector<int> types(bindings);
  for (uint32_t i = 0; i < bindings; ++i)
    types[i] = i < texel_formats.size() && texel_formats[i] != VK_FORMAT_UNDEFINED
                   ? VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER
                   : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
  auto it = layouts_.find(types);
  if (it != layouts_.end()) return it->second.second;
  std::vector<VkDescriptorSetLayoutBinding> b(bindings);
  for (uint32_t i = 0; i < bindings; ++i) {
    b[i].binding = i;
    b[i].descriptorType = VkDescriptorType(types[i]);
    b[i].descriptorCount = 1;
    b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo dl{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  dl.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
  dl.bindingCount = bindings;
  dl.pBindings = b.data();
  VkDescriptorSetLayout dsl;
  VKD_CHECK(vkCreateDescriptorSetLayout(ctx_.device(), &dl, nullptr, &dsl));
  VkPushConstantRange pc{VK_SHADER_STAGE_COMPUTE_BIT, 0, kMaxPushConstantBytes};
  VkPipelineLayoutCreateInfo pl{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pl.setLayoutCount = 1;
  pl.pSetLayouts = &dsl;
  pl.pushConstantRangeCount = 1;
  pl.pPushConstantRanges = &pc;
  VkPipelineLayout layout;
  VkResult r = vkCreatePipelineLayout(ctx_.device(), &pl, nullptr, &layout);
  if (r != VK_SUCCESS) {
    vkDestroyDescriptorSetLayout(ctx_.device(), dsl, nullptr);
    VKD_CHECK(r);
  }
  layouts_[types] = {dsl, layout};
  return layout;
}

const Pipeline& PipelineCache::get(const PipelineKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return *it->second;

  std::string label = key.shader + "[" + variant_name(key.variant) + "]";
  const ShaderEntry* entry = find_shader(key.shader, key.variant);
  if (!entry)
    throw VulkanError("no compiled shader '" + label + "' (is it under shaders/?)", VK_ERROR_UNKNOWN);
  if (key.variant != Variant::kF32 && !ctx_.caps().fp16_storage)
    throw VulkanError("shader " + label + " needs 16-bit storage, which " + ctx_.caps().name + " lacks",
                      VK_ERROR_FEATURE_NOT_PRESENT);
  if (key.variant == Variant::kF16Arith && !ctx_.caps().fp16_arithmetic)
    throw VulkanError("shader " + label + " needs float16 arithmetic, which " + ctx_.caps().name + " lacks",
                      VK_ERROR_FEATURE_NOT_PRESENT);
  const auto& wg = key.workgroup;
  if (wg[0] * wg[1] * wg[2] > ctx_.caps().max_workgroup_invocations)
    throw VulkanError("workgroup of " + label + " exceeds the device's invocation limit",
                      VK_ERROR_FEATURE_NOT_PRESENT);

  std::string mod_key = label;
  VkShaderModule module;
  if (auto m = modules_.find(mod_key); m != modules_.end()) {
    module = m->second;
  } else {
    VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    mi.codeSize = entry->word_count * 4;
    mi.pCode = entry->words;
    VKD_CHECK(vkCreateShaderModule(ctx_.device(), &mi, nullptr, &module));
    modules_[mod_key] = module;
  }

  std::vector<uint32_t> values{wg[0], wg[1], wg[2]};
  values.insert(values.end(), key.spec.begin(), key.spec.end());
  std::vector<VkSpecializationMapEntry> map(values.size());
  for (uint32_t i = 0; i < values.size(); ++i) map[i] = {i, i * 4u, 4};
  VkSpecializationInfo si{uint32_t(map.size()), map.data(), values.size() * 4, values.data()};

  auto p = std::make_unique<Pipeline>();
  p->label = label;
  if (key.texel_formats.size() > key.bindings)
    throw VulkanError("pipeline " + label + " names texel formats for more bindings than it has", VK_ERROR_UNKNOWN);
  p->layout = layout_for(key.bindings, key.texel_formats);
  p->texel_formats = key.texel_formats;
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = &si;
  ci.layout = p->layout;
  VkResult r = vkCreateComputePipelines(ctx_.device(), cache_, 1, &ci, nullptr, &p->pipeline);
  if (r != VK_SUCCESS)
    throw VulkanError("creating pipeline " + label + " failed: " + result_name(r), r);
  auto& ref = *p;
  pipelines_[key] = std::move(p);
  return ref;
}

}  // namespace vkdream::vk
