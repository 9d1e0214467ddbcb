// The loaders pack: CheckpointLoaderSimple, VAELoader, LoraLoader, LoraLoaderModelOnly.
#pragma once

#include <string>

#include "vkdream/plugin.hpp"

namespace vkdream::packs::loaders {

void checkpoint_loader_simple(vkd::Context& c);
void vae_loader(vkd::Context& c);
void lora_loader(vkd::Context& c);
void lora_loader_model_only(vkd::Context& c);

// <folder kind>/<name> from the host's folders; a name that escapes the folder or names no file is a ValueError.
std::string model_file_path(const char* kind, const std::string& name);

}  // namespace vkdream::packs::loaders
