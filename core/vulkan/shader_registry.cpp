#include "vulkan/shader_registry.h"

namespace vkdream::vk {

const char* variant_name(Variant v) {
  switch (v) {
    case Variant::kF32:
      return "f32";
    case Variant::kF16Storage:
      return "f16";
    case Variant::kF16Arith:
      return "f16a";
  }
  return "?";
}

const ShaderEntry* find_shader(std::string_view name, Variant variant) {
  for (std::size_t i = 0; i < kShaderEntryCount; ++i) {
    const ShaderEntry& e = kShaderEntries[i];
    if (e.variant == variant && name == e.name) return &e;
  }
  return nullptr;
}

}  // namespace vkdream::vk
