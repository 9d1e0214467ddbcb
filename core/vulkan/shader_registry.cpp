#include "vulkan/shader_registry.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

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

namespace {
struct RuntimeShader {
  std::string name;
  std::vector<uint32_t> words;
  ShaderEntry entry;
};
std::mutex g_runtime_mu;
std::deque<RuntimeShader> g_runtime;  // never shrinks: entries are referenced by pipelines
}  // namespace

const ShaderEntry* find_shader(std::string_view name, Variant variant) {
  for (std::size_t i = 0; i < kShaderEntryCount; ++i) {
    const ShaderEntry& e = kShaderEntries[i];
    if (e.variant == variant && name == e.name) return &e;
  }
  std::lock_guard<std::mutex> lock(g_runtime_mu);
  for (const auto& r : g_runtime)
    if (r.entry.variant == variant && name == r.name) return &r.entry;
  return nullptr;
}

bool register_shader(std::string_view name, Variant variant, const uint32_t* words, std::size_t word_count) {
  if (const ShaderEntry* e = find_shader(name, variant))
    return e->word_count == word_count && std::equal(words, words + word_count, e->words);
  std::lock_guard<std::mutex> lock(g_runtime_mu);
  RuntimeShader& r = g_runtime.emplace_back();
  r.name = std::string(name);
  r.words.assign(words, words + word_count);
  r.entry = ShaderEntry{r.name.c_str(), variant, r.words.data(), r.words.size()};
  return true;
}

}  // namespace vkdream::vk
