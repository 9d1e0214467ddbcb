#include "vulkan/context.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <unistd.h>

#include "vulkan/error.h"
#include "vulkan/memory.h"
#include "vulkan/pipeline_cache.h"

namespace vkdream::vk {
namespace {

bool env_true(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0 && std::strcmp(v, "false") != 0;
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT,
    const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
    static_cast<Context*>(user)->count_validation_error();
    std::fprintf(stderr, "[vkdream] validation error: %s\n", data->pMessage);
  } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    std::fprintf(stderr, "[vkdream] validation warning: %s\n", data->pMessage);
  }
  return VK_FALSE;
}

bool has_layer(const char* name) {
  uint32_t n = 0;
  vkEnumerateInstanceLayerProperties(&n, nullptr);
  std::vector<VkLayerProperties> layers(n);
  vkEnumerateInstanceLayerProperties(&n, layers.data());
  for (auto& l : layers)
    if (std::strcmp(l.layerName, name) == 0) return true;
  return false;
}

bool has_device_extension(VkPhysicalDevice pd, const char* name) {
  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> exts(n);
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data());
  for (auto& e : exts)
    if (std::strcmp(e.extensionName, name) == 0) return true;
  return false;
}

int type_rank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return 3;
    default:
      return 4;
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

VkInstance make_instance(bool validation, bool debug_utils) {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "vkdream";
  app.pEngineName = "vkdream";
  app.apiVersion = VK_API_VERSION_1_2;
  std::vector<const char*> layers, exts;
  if (validation) layers.push_back("VK_LAYER_KHRONOS_validation");
  if (debug_utils) exts.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = uint32_t(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = uint32_t(exts.size());
  ci.ppEnabledExtensionNames = exts.data();
  VkInstance inst = VK_NULL_HANDLE;
  VKD_CHECK(vkCreateInstance(&ci, nullptr, &inst));
  return inst;
}

std::vector<VkPhysicalDevice> physical_devices(VkInstance inst) {
  uint32_t n = 0;
  VKD_CHECK(vkEnumeratePhysicalDevices(inst, &n, nullptr));
  std::vector<VkPhysicalDevice> pds(n);
  VKD_CHECK(vkEnumeratePhysicalDevices(inst, &n, pds.data()));
  return pds;
}

}  // namespace

Context::Context(const ContextOptions& options) {
  create_instance(options.validation || env_true("VKDREAM_VALIDATION"));
  std::string selector = options.device;
  if (selector.empty()) {
    const char* env = std::getenv("VKDREAM_DEVICE");
    if (env) selector = env;
  }
  pick_device(selector);
  uint64_t max_binding = options.max_binding_bytes;
  if (max_binding == 0) {
    const char* env = std::getenv("VKDREAM_MAX_BINDING_BYTES");
    if (env && *env) max_binding = std::strtoull(env, nullptr, 10);
  }
  if (max_binding > 0) caps_.max_storage_buffer_range = std::min<uint64_t>(caps_.max_storage_buffer_range, max_binding);
  create_device();
  if (options.transformed_weights_budget >= 0) {
    transformed_budget_ = uint64_t(options.transformed_weights_budget);
  } else if (const char* mb = std::getenv("VKDREAM_WINOGRAD_CACHE_MB"); mb && *mb) {
    transformed_budget_ = std::strtoull(mb, nullptr, 10) << 20;
  } else {
    uint64_t memory = caps_.device_local_bytes;
    if (caps_.type == VK_PHYSICAL_DEVICE_TYPE_CPU)  // lavapipe reports a 2 GiB heap and allocates past it
      memory = uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGE_SIZE));
    transformed_budget_ = memory / 2;
  }
  weights_ = std::make_unique<MemoryPool>(*this, MemoryPool::Kind::kDeviceLocal, "weights");
  activations_ = std::make_unique<MemoryPool>(*this, MemoryPool::Kind::kDeviceLocal, "activations");
  staging_ = std::make_unique<MemoryPool>(*this, MemoryPool::Kind::kHostVisible, "staging");
  pipelines_ = std::make_unique<PipelineCache>(*this);
}

bool Context::reserve_transformed_weights(uint64_t bytes) {
  uint64_t used = transformed_used_.load();
  do {
    if (used + bytes > transformed_budget_) return false;
  } while (!transformed_used_.compare_exchange_weak(used, used + bytes));
  return true;
}

Context::~Context() {
  if (device_) vkDeviceWaitIdle(device_);
  pipelines_.reset();
  staging_.reset();
  activations_.reset();
  weights_.reset();
  if (device_) vkDestroyDevice(device_, nullptr);
  if (messenger_) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy) destroy(instance_, messenger_, nullptr);
  }
  if (instance_) vkDestroyInstance(instance_, nullptr);
}

void Context::create_instance(bool validation) {
  if (validation && !has_layer("VK_LAYER_KHRONOS_validation")) {
    throw VulkanError(
        "validation requested but VK_LAYER_KHRONOS_validation is not installed "
        "(Debian package vulkan-validationlayers)",
        VK_ERROR_LAYER_NOT_PRESENT);
  }
  validation_enabled_ = validation;
  instance_ = make_instance(validation, validation);
  if (validation) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
    VkDebugUtilsMessengerCreateInfoEXT mi{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
    mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    mi.pfnUserCallback = on_validation_message;
    mi.pUserData = this;
    VKD_CHECK(create(instance_, &mi, nullptr, &messenger_));
  }
}

void Context::pick_device(const std::string& selector) {
  auto pds = physical_devices(instance_);
  std::vector<VkPhysicalDevice> usable;
  for (auto pd : pds) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(pd, &p);
    if (p.apiVersion >= VK_API_VERSION_1_2 && has_device_extension(pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME))
      usable.push_back(pd);
  }
  if (usable.empty())
    throw VulkanError(
        "no Vulkan 1.2 device with VK_KHR_push_descriptor found (install mesa-vulkan-drivers for "
        "the CPU device, or a GPU driver)",
        VK_ERROR_INITIALIZATION_FAILED);
  std::stable_sort(usable.begin(), usable.end(), [](VkPhysicalDevice a, VkPhysicalDevice b) {
    VkPhysicalDeviceProperties pa, pb;
    vkGetPhysicalDeviceProperties(a, &pa);
    vkGetPhysicalDeviceProperties(b, &pb);
    return type_rank(pa.deviceType) < type_rank(pb.deviceType);
  });
  physical_ = usable.front();
  if (!selector.empty()) {
    physical_ = VK_NULL_HANDLE;
    bool numeric = std::all_of(selector.begin(), selector.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (numeric) {
      size_t idx = std::stoul(selector);
      if (idx < pds.size()) physical_ = pds[idx];
    } else {
      for (auto pd : usable) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(pd, &p);
        if (lower(p.deviceName).find(lower(selector)) != std::string::npos) {
          physical_ = pd;
          break;
        }
      }
    }
    if (!physical_) {
      std::ostringstream os;
      os << "VKDREAM_DEVICE='" << selector << "' matches no usable device; devices:";
      for (auto& d : list_devices()) os << "\n  " << d;
      throw VulkanError(os.str(), VK_ERROR_INITIALIZATION_FAILED);
    }
  }

  VkPhysicalDeviceSubgroupProperties sub{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  props.pNext = &sub;
  vkGetPhysicalDeviceProperties2(physical_, &props);
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  f11.pNext = &f12;
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  feats.pNext = &f11;
  vkGetPhysicalDeviceFeatures2(physical_, &feats);

  const auto& p = props.properties;
  caps_.name = p.deviceName;
  caps_.type = p.deviceType;
  caps_.vendor_id = p.vendorID;
  caps_.api_version = p.apiVersion;
  caps_.fp16_storage = f11.storageBuffer16BitAccess;
  caps_.fp16_arithmetic = f12.shaderFloat16 && caps_.fp16_storage;
  caps_.int64 = feats.features.shaderInt64;
  caps_.subgroup_size = sub.subgroupSize;
  caps_.max_storage_buffer_range = p.limits.maxStorageBufferRange;
  caps_.min_storage_offset_alignment = p.limits.minStorageBufferOffsetAlignment;
  caps_.max_shared_memory = p.limits.maxComputeSharedMemorySize;
  caps_.max_workgroup_invocations = p.limits.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) {
    caps_.max_workgroup_size[i] = p.limits.maxComputeWorkGroupSize[i];
    caps_.max_workgroup_count[i] = p.limits.maxComputeWorkGroupCount[i];
  }
  caps_.timestamp_period_ns = p.limits.timestampPeriod;
  caps_.max_texel_buffer_elements = p.limits.maxTexelBufferElements;
  caps_.min_texel_buffer_offset_alignment = p.limits.minTexelBufferOffsetAlignment;
  const bool compute_subgroups = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
  caps_.subgroup_shuffle = compute_subgroups && (sub.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
  caps_.subgroup_arithmetic = compute_subgroups && (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
  caps_.subgroup_ballot = compute_subgroups && (sub.supportedOperations & VK_SUBGROUP_FEATURE_BALLOT_BIT);
  auto storage_texel = [&](VkFormat f) {
    VkFormatProperties fp;
    vkGetPhysicalDeviceFormatProperties(physical_, f, &fp);
    return (fp.bufferFeatures & VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_BIT) != 0;
  };
  caps_.storage_texel_rgba32f = storage_texel(VK_FORMAT_R32G32B32A32_SFLOAT);
  caps_.storage_texel_rgba16f = storage_texel(VK_FORMAT_R16G16B16A16_SFLOAT);
  caps_.storage_texel_r32f = storage_texel(VK_FORMAT_R32_SFLOAT);
  caps_.storage_texel_r16f = storage_texel(VK_FORMAT_R16_SFLOAT);

  uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical_, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> qf(nq);
  vkGetPhysicalDeviceQueueFamilyProperties(physical_, &nq, qf.data());
  bool found = false;
  // Prefer a compute queue family; take the first one with compute.
  for (uint32_t i = 0; i < nq && !found; ++i) {
    if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
      queue_family_ = i;
      caps_.timestamps = qf[i].timestampValidBits > 0;
      found = true;
    }
  }
  if (!found) throw VulkanError("device " + caps_.name + " has no compute queue", VK_ERROR_INITIALIZATION_FAILED);

  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(physical_, &mp);
  for (uint32_t i = 0; i < mp.memoryHeapCount; ++i)
    if (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      caps_.device_local_bytes = std::max<uint64_t>(caps_.device_local_bytes, mp.memoryHeaps[i].size);
  for (uint32_t i = 0; i < mp.memoryTypeCount; ++i) {
    auto f = mp.memoryTypes[i].propertyFlags;
    if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
        mp.memoryHeaps[mp.memoryTypes[i].heapIndex].size >= caps_.device_local_bytes)
      caps_.unified_memory = true;
  }
}

void Context::create_device() {
  float priority = 1.0f;
  VkDeviceQueueCreateInfo qi{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qi.queueFamilyIndex = queue_family_;
  qi.queueCount = 1;
  qi.pQueuePriorities = &priority;

  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  f11.pNext = &f12;
  f11.storageBuffer16BitAccess = caps_.fp16_storage;
  f12.shaderFloat16 = caps_.fp16_arithmetic;
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  feats.pNext = &f11;
  feats.features.shaderInt64 = caps_.int64;

  const char* exts[] = {VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME};
  VkDeviceCreateInfo ci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  ci.pNext = &feats;
  ci.queueCreateInfoCount = 1;
  ci.pQueueCreateInfos = &qi;
  ci.enabledExtensionCount = 1;
  ci.ppEnabledExtensionNames = exts;
  VKD_CHECK(vkCreateDevice(physical_, &ci, nullptr, &device_));
  vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
  cmd_push_descriptor_set = reinterpret_cast<PFN_vkCmdPushDescriptorSetKHR>(
      vkGetDeviceProcAddr(device_, "vkCmdPushDescriptorSetKHR"));
  if (!cmd_push_descriptor_set)
    throw VulkanError("vkCmdPushDescriptorSetKHR is missing on " + caps_.name, VK_ERROR_EXTENSION_NOT_PRESENT);
}

std::vector<std::string> Context::list_devices() {
  VkInstance inst = make_instance(false, false);
  std::vector<std::string> out;
  try {
    auto pds = physical_devices(inst);
    for (size_t i = 0; i < pds.size(); ++i) {
      VkPhysicalDeviceProperties p;
      vkGetPhysicalDeviceProperties(pds[i], &p);
      std::ostringstream os;
      os << i << ": " << p.deviceName << " (type " << int(p.deviceType) << ", Vulkan "
         << VK_API_VERSION_MAJOR(p.apiVersion) << "." << VK_API_VERSION_MINOR(p.apiVersion) << ")";
      out.push_back(os.str());
    }
  } catch (...) {
    vkDestroyInstance(inst, nullptr);
    throw;
  }
  vkDestroyInstance(inst, nullptr);
  return out;
}

}  // namespace vkdream::vk
