// LoRA files and patching, as ComfyUI's LoraLoader does it for SD1.5 (comfy/lora.py, comfy/sd.py
// load_lora_for_models, comfy/weight_adapter/lora.py):
//  - each module name of the file (kohya `lora_unet_*` / `lora_te_*`, diffusers, peft, generic) is looked up
//    in the key map ComfyUI builds from the model (sd15_lora_key_map), giving the patched weight's
//    LDM checkpoint name;
//  - patched weight W' = W + strength * (alpha / rank) * (up @ down) (alpha / rank is 1 without an alpha),
//    conv LoRAs flattened to [out, in*kh*kw], LoCon `lora_mid` folded in first; in f32 on the GPU, then
//    rounded once to the weight's storage dtype, several LoRAs applied in order before that rounding;
//  - keys nothing consumed are reported ("lora key not loaded: ..."), as are patches whose target the
//    model does not have ("NOT LOADED ...").
//
//   auto lora = LoraFile::open(path, models.config);
//   auto unet2 = apply_lora(s, *models.unet, {{lora.get(), 0.8}});   // shares every unpatched tensor
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/clip_text_model.h"
#include "model/safetensors.h"
#include "model/sd15_config.h"
#include "model/unet.h"

namespace vkdream::model {

// ComfyUI's key map (model_lora_keys_unet + model_lora_keys_clip) for an SD1.x model: LoRA module name ->
// LDM checkpoint tensor name (model.diffusion_model.* / cond_stage_model.transformer.*), in the order
// ComfyUI's dict holds them (later duplicates overwrite in place).
std::vector<std::pair<std::string, std::string>> sd15_lora_key_map(const SD15Config& cfg);

// One low-rank patch (ComfyUI's LoRAAdapter) read from the file.
struct LoraModule {
  std::string key;     // the module name in the file (x in x.lora_up.weight)
  std::string target;  // LDM checkpoint name of the weight it patches
  const TensorInfo* up = nullptr;    // [out, rank, (1, 1)]
  const TensorInfo* down = nullptr;  // [rank, in, (kh, kw)]
  const TensorInfo* mid = nullptr;   // LoCon [rank, rank, kh, kw] or null
  std::optional<double> alpha;       // x.alpha; scale = alpha / rank, or 1 without it
  double scale() const;
};

class LoraFile {
 public:
  // Reads and maps `path` against the SD1.x model `cfg`. Throws SafetensorsError for a bad file.
  static std::shared_ptr<LoraFile> open(const std::string& path, const SD15Config& cfg);
  static std::shared_ptr<LoraFile> from_file(std::unique_ptr<SafetensorsFile> file, const SD15Config& cfg);

  const std::string& path() const { return file_->path(); }
  const SafetensorsFile& file() const { return *file_; }
  // The patches, in key-map order, one per target.
  const std::vector<LoraModule>& modules() const { return modules_; }
  const LoraModule* find(const std::string& target) const;
  // ComfyUI's warnings: "lora key not loaded: K" for every file key no patch used, "NOT LOADED T" for
  // patch targets the model lacks, and patches we cannot apply (DoRA, shape mismatch) with the reason.
  const std::vector<std::string>& not_loaded() const { return not_loaded_; }

 private:
  LoraFile() = default;
  std::unique_ptr<SafetensorsFile> file_;
  std::vector<LoraModule> modules_;
  std::vector<std::string> not_loaded_;
};

// One LoraLoader in a chain: the file and its strength for this model (strength_model or strength_clip).
struct LoraRef {
  const LoraFile* file = nullptr;
  double strength = 1.0;
};

// The weights of `base` (stored under `prefix`, e.g. UNet::kPrefix) with every patch of `loras` applied
// in order; unpatched tensors are shared with `base`, patched ones are new tensors in the weight pool.
// A target patched by no LoRA with a non-zero strength stays shared.
Weights apply_lora(vk::Stream& s, const Weights& base, const std::string& prefix, const std::vector<LoraRef>& loras);

// New models sharing every unpatched tensor with the original, which stays usable.
std::shared_ptr<UNet> apply_lora(vk::Stream& s, const UNet& unet, const std::vector<LoraRef>& loras);
std::shared_ptr<CLIPTextModel> apply_lora(vk::Stream& s, const CLIPTextModel& clip, const std::vector<LoraRef>& loras);

}  // namespace vkdream::model
