// LoRA files and patching, as ComfyUI's LoraLoader does it for SD1.5 (comfy/lora.py load_lora and
// calculate_weight, comfy/sd.py load_lora_for_models, comfy/weight_adapter/{lora,loha,lokr,base}.py):
//  - each module name of the file (kohya `lora_unet_*` / `lora_te_*`, diffusers, peft, lycoris, generic
//    LDM names, UNet biases by their own name) is looked up in the key map ComfyUI builds from the model
//    (sd15_lora_key_map), giving the patched tensor's LDM checkpoint name;
//  - per module, as load_lora tries them (a later kind replaces an earlier one for the same target):
//      LoRA / LoCon  diff = up @ down (LoCon `lora_mid` folded in),           scale alpha / rank
//      LoHa          diff = (w1a @ w1b) * (w2a @ w2b) (CP/tucker with t1, t2), scale alpha / rank
//      LoKr          diff = kron(w1, w2), w1/w2 full or a @ b (w2 tucker with t2), scale alpha / dim only
//                    when a factor is low-rank
//      w_norm, diff  full-weight difference, W' = W + strength * diff (b_norm, diff_b: the bias)
//      set_weight    W' = set_weight, whatever the strength
//    and W' = W + strength * scale * diff, or with `dora_scale` ComfyUI's weight_decompose (DoRA: the
//    patched weight renormalised per output or per input channel);
//  - all in f32 on the GPU, rounded once to the weight's storage dtype, several LoRAs applied in order
//    before that rounding;
//  - keys nothing consumed are reported ("lora key not loaded: ..."), as are patches whose target the
//    model does not have ("NOT LOADED ...") and patches that cannot apply ("ERROR loha ...").
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

// What a patch computes (ComfyUI's adapter or patch type).
enum class LoraKind { kLoRA, kLoHa, kLoKr, kDiff, kSet };
// "lora", "loha", "lokr", "diff", "set": the name ComfyUI's messages use.
const char* lora_kind_name(LoraKind k);

// LoHa's tensors (x.hada_*); t1/t2 only for the CP (tucker) form.
struct LoHaTensors {
  const TensorInfo *w1_a = nullptr, *w1_b = nullptr, *w2_a = nullptr, *w2_b = nullptr;
  const TensorInfo *t1 = nullptr, *t2 = nullptr;
};
// LoKr's tensors (x.lokr_*): w1 full or w1_a @ w1_b, w2 full or w2_a @ w2_b (t2: tucker core).
struct LoKrTensors {
  const TensorInfo *w1 = nullptr, *w2 = nullptr, *w1_a = nullptr, *w1_b = nullptr;
  const TensorInfo *w2_a = nullptr, *w2_b = nullptr, *t2 = nullptr;
};

// One patch of one tensor read from the file.
struct LoraModule {
  std::string key;     // the module name in the file (x in x.lora_up.weight)
  std::string target;  // LDM checkpoint name of the tensor it patches
  LoraKind kind = LoraKind::kLoRA;
  const TensorInfo* up = nullptr;    // LoRA [out, rank, (1, 1)]
  const TensorInfo* down = nullptr;  // LoRA [rank, in, (kh, kw)]
  const TensorInfo* mid = nullptr;   // LoCon [rank, rank, kh, kw] or null
  LoHaTensors hada;
  LoKrTensors lokr;
  const TensorInfo* full = nullptr;        // kDiff / kSet: the tensor (x.diff, x.diff_b, x.w_norm, ...)
  const TensorInfo* dora_scale = nullptr;  // LoRA/LoHa/LoKr with DoRA
  std::optional<double> alpha;             // x.alpha
  // ComfyUI's alpha for the kind: alpha / rank (LoRA: down rows, LoHa: w1_b rows, LoKr: the rows of the
  // last low-rank b factor), 1 without an alpha (or a LoKr of full factors), 1 for diff/set.
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
  // patch targets the model lacks, and patches that cannot apply (shape mismatch) with the reason.
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
// A strength of 0 applies only set_weight patches (ComfyUI adds the others with strength 0: no change),
// so a target patched by nothing else stays shared.
Weights apply_lora(vk::Stream& s, const Weights& base, const std::string& prefix, const std::vector<LoraRef>& loras);

// New models sharing every unpatched tensor with the original, which stays usable.
std::shared_ptr<UNet> apply_lora(vk::Stream& s, const UNet& unet, const std::vector<LoraRef>& loras);
std::shared_ptr<CLIPTextModel> apply_lora(vk::Stream& s, const CLIPTextModel& clip, const std::vector<LoraRef>& loras);

}  // namespace vkdream::model
