// Vulkan errors as exceptions that say what failed and where; never an abort.
#pragma once
#include <vulkan/vulkan.h>

#include <stdexcept>
#include <string>

namespace vkdream::vk {

// Thrown for any failed Vulkan call or unusable device state. The message names the call,
// the VkResult and the source location.
class VulkanError : public std::runtime_error {
 public:
  VulkanError(const std::string& what, VkResult result)
      : std::runtime_error(what), result_(result) {}
  VkResult result() const { return result_; }
  // True when the device ran out of memory: callers fail the request and keep serving.
  bool out_of_memory() const {
    return result_ == VK_ERROR_OUT_OF_DEVICE_MEMORY || result_ == VK_ERROR_OUT_OF_HOST_MEMORY;
  }

 private:
  VkResult result_;
};

const char* result_name(VkResult r);
[[noreturn]] void throw_vk_error(VkResult r, const char* expr, const char* file, int line);

}  // namespace vkdream::vk

#define VKD_CHECK(expr)                                                        \
  do {                                                                         \
    VkResult vkd_r_ = (expr);                                                  \
    if (vkd_r_ != VK_SUCCESS)                                                  \
      ::vkdream::vk::throw_vk_error(vkd_r_, #expr, __FILE__, __LINE__);        \
  } while (0)
