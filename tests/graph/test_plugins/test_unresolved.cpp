// References a symbol nothing defines: dlopen(RTLD_NOW) fails, the loader must skip it and go on.
#include "vkdream/plugin.h"

extern "C" int vkdtest_symbol_that_does_not_exist(void);

extern "C" VKD_PLUGIN_EXPORT VkdStatus vkdream_plugin_entry(const VkdHost* host, VkdPluginDesc* out) {
  return vkdtest_symbol_that_does_not_exist() == 0 ? VKD_OK : VKD_ERROR;
}
