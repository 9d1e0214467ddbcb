// What flows between the SD1.5 node packs: the payloads of ComfyUI's MODEL, CLIP, VAE, CONDITIONING, LATENT,
// IMAGE and MASK objects (VkdObject.payload, identified by payload_tag). Device tensors stay on the device
// between nodes; objects are immutable once made (a node that changes one makes a new one), so the output
// cache can hand the same object to later prompts.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/clip_text_model.h"
#include "model/embeddings.h"
#include "model/lora.h"
#include "model/sd15_config.h"
#include "model/unet.h"
#include "model/unet_patches.h"
#include "model/vae.h"
#include "sampling/conditioning.h"
#include "sampling/model_sampling.h"
#include "tensor/tensor.h"
#include "vkdream/plugin.h"

namespace vkdream::payload {

inline constexpr const char* kModelTag = "vkdream.model/1";
inline constexpr const char* kClipTag = "vkdream.clip/1";
inline constexpr const char* kVaeTag = "vkdream.vae/1";
inline constexpr const char* kConditioningTag = "vkdream.conditioning/1";
inline constexpr const char* kLatentTag = "vkdream.latent/1";
inline constexpr const char* kImageTag = "vkdream.image/1";  // also readable through the C "vkd.tensor" service
inline constexpr const char* kMaskTag = "vkdream.mask/1";

// A LoRA applied by a LoraLoader upstream, kept so a further LoraLoader re-derives from the base weights.
struct AppliedLora {
  std::shared_ptr<const model::LoraFile> file;
  double strength = 1.0;
};

// MODEL: the UNet (LoRAs already folded in), its patches (FreeU) and its sigma schedule.
struct Model {
  model::SD15Config config;
  std::shared_ptr<const model::UNet> base;  // as loaded
  std::shared_ptr<const model::UNet> unet;  // base with `loras` applied
  std::vector<AppliedLora> loras;
  model::UNetPatches patches;
  std::shared_ptr<const sampling::ModelSamplingDiscrete> sampling;
};

// CLIP: the text encoder (LoRAs folded in) and CLIPSetLastLayer's layer.
struct Clip {
  model::SD15Config config;
  std::shared_ptr<const model::CLIPTextModel> base;
  std::shared_ptr<const model::CLIPTextModel> model;
  std::vector<AppliedLora> loras;
  int layer = -1;
  std::shared_ptr<model::EmbeddingLibrary> embeddings;  // `embedding:name` in prompts (the embeddings folder)
};

struct Vae {
  std::shared_ptr<const model::VAE> vae;
};

struct Conditioning {
  sampling::Conditioning entries;
};

// LATENT: samples [B, 4, h, w] f32 in VAE space; noise_mask as SetLatentNoiseMask stored it; batch_index as
// LatentFromBatch / RepeatLatentBatch set it (empty: absent).
struct Latent {
  Tensor samples;
  std::optional<Tensor> noise_mask;
  std::vector<int64_t> batch_index;
};

// IMAGE: [B, H, W, C] f32 in [0, 1] (ComfyUI's layout). MASK: [B, H, W] f32.
struct Image {
  Tensor pixels;
};
struct Mask {
  Tensor mask;
};

// Bytes a payload holds, for the cache budget.
inline uint64_t bytes_of(const Tensor& t) { return t.defined() ? t.bytes() : 0; }

}  // namespace vkdream::payload
