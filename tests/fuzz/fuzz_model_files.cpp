// Model files users drop in: a checkpoint's architecture detection and a LoRA's key mapping and adapter shapes
// (kohya and ComfyUI names, LoCon, LoHa, LoKr, DoRA, diff patches) against the SD1.5 and the tiny architectures.
// Refusals are SafetensorsError / SD15ConfigError; a LoRA that does not fit reports its keys as not loaded.
#include <cstdint>

#include "model/lora.h"
#include "model/safetensors.h"
#include "model/sd15_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkdream::model;
  try {
    auto file = SafetensorsFile::from_memory(data, size, "fuzz.safetensors");
    try {
      (void)detect_sd15_config(*file);
    } catch (const SD15ConfigError&) {
    }
    for (const SD15Config& cfg : {sd15_base_config(), tiny_sd15_config()}) {
      auto lora = LoraFile::from_file(SafetensorsFile::from_memory(data, size, "fuzz-lora.safetensors"), cfg);
      for (const LoraModule& m : lora->modules()) {
        volatile double s = m.scale();
        (void)s;
        if (!lora->find(m.target)) __builtin_trap();
      }
    }
  } catch (const SafetensorsError&) {
  }
  return 0;
}
