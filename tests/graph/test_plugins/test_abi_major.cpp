// Built against a future ABI major: the host must refuse it before reading its node table.
#include "vkdream/plugin.h"

extern "C" VKD_PLUGIN_EXPORT VkdStatus vkdream_plugin_entry(const VkdHost* host, VkdPluginDesc* out) {
  out->abi_major = VKD_ABI_MAJOR + 1;
  out->abi_minor = 0;
  out->name = "vkdtest_abi_major";
  out->nodes = reinterpret_cast<const VkdNodeDecl*>(0x1);  // garbage the host must never read
  out->node_count = 99;
  return VKD_OK;
}
