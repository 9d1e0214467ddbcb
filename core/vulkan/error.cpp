#include "vulkan/error.h"

#include <sstream>

namespace vkdream::vk {

const char* result_name(VkResult r) {
  switch (r) {
#define VKD_CASE(x) \
  case x:           \
    return #x;
    VKD_CASE(VK_SUCCESS)
    VKD_CASE(VK_NOT_READY)
    VKD_CASE(VK_TIMEOUT)
    VKD_CASE(VK_INCOMPLETE)
    VKD_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    VKD_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    VKD_CASE(VK_ERROR_INITIALIZATION_FAILED)
    VKD_CASE(VK_ERROR_DEVICE_LOST)
    VKD_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    VKD_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    VKD_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    VKD_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    VKD_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    VKD_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    VKD_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    VKD_CASE(VK_ERROR_FRAGMENTED_POOL)
    VKD_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    VKD_CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    VKD_CASE(VK_ERROR_FRAGMENTATION)
    VKD_CASE(VK_ERROR_UNKNOWN)
#undef VKD_CASE
    default:
      return "VK_ERROR_(unnamed)";
  }
}

void throw_vk_error(VkResult r, const char* expr, const char* file, int line) {
  std::ostringstream os;
  os << "Vulkan call failed: " << expr << " returned " << result_name(r) << " (" << int(r)
     << ") at " << file << ":" << line;
  throw VulkanError(os.str(), r);
}

}  // namespace vkdream::vk
