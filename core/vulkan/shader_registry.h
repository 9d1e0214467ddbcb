// The SPIR-V compiled into the binary at build time, looked up by name and precision variant.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vkdream::vk {

// Precision variant of a compiled shader (see cmake/Shaders.cmake and shaders/common/types.glsl).
enum class Variant : uint8_t { kF32 = 0, kF16Storage = 1, kF16Arith = 2 };
const char* variant_name(Variant v);

struct ShaderEntry {
  const char* name;  // "family/op", the path under shaders/ without .comp
  Variant variant;
  const uint32_t* words;
  std::size_t word_count;
};

// Returns the entry, or nullptr when no shader of that name and variant was compiled (or registered).
const ShaderEntry* find_shader(std::string_view name, Variant variant);

// Adds SPIR-V at run time (plugins bring their own shaders through the "vkd.gpu" service). The first
// registration of a (name, variant) wins and lives for the process; returns false when the name was taken by
// different code.
bool register_shader(std::string_view name, Variant variant, const uint32_t* words, std::size_t word_count);

extern const ShaderEntry kShaderEntries[];
extern const std::size_t kShaderEntryCount;

}  // namespace vkdream::vk
