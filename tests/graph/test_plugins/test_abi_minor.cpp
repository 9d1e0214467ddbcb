// Built against a newer ABI minor than the host's: refused.
#include "vkdream/plugin.h"

extern "C" VKD_PLUGIN_EXPORT VkdStatus vkdream_plugin_entry(const VkdHost* host, VkdPluginDesc* out) {
  out->abi_major = VKD_ABI_MAJOR;
  out->abi_minor = VKD_ABI_MINOR + 1;
  out->name = "vkdtest_abi_minor";
  out->node_count = 0;
  return VKD_OK;
}
