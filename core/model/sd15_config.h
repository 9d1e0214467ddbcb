// SD1.x single-file checkpoints (LDM/CompVis key names): the architecture read from tensor shapes
// alone, as ComfyUI's comfy/model_detection.py does, and the full list of tensors that architecture
// implies, so that every expected name, shape and dtype is checked before a weight is used
// (reliability.md, "Files the server reads").
//
//   auto file = SafetensorsFile::open(path);
//   SD15Config cfg = detect_sd15_config(*file);   // throws SD15ConfigError naming what is wrong
//
// Head counts cannot be read from shapes. The UNet uses SD1.5's 8 heads (dim_head = ch / 8); the CLIP
// text model uses width / 64 heads (12 for SD1.5's 768). Both can be overridden through
// SD15DetectOptions; the tiny test checkpoint (tiny-checkpoint.md) has CLIP width 64, so the default
// rule already gives its single head, and clip_num_heads = 1 states it explicitly.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/safetensors.h"

namespace vkdream::model {

class SD15ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SD15UNetConfig {
  int in_channels = 4;  // 4, or 9 for inpainting models
  int out_channels = 4;
  int model_channels = 320;
  std::vector<int> channel_mult{1, 2, 4, 4};
  int num_res_blocks = 2;                     // per level on the way down (up: num_res_blocks + 1)
  std::vector<int> attention_levels{0, 1, 2};  // levels whose res blocks are followed by a transformer
  int transformer_depth = 1;
  int context_dim = 768;
  bool use_linear_in_transformer = false;  // proj_in/proj_out are linear [ch,ch] instead of 1x1 conv
  int time_embed_dim = 1280;               // 4 * model_channels
  int num_heads = 8;                       // not in the file: SD1.5's value unless overridden
  bool operator==(const SD15UNetConfig&) const = default;
};

struct SD15VAEConfig {
  int ch = 128;
  std::vector<int> ch_mult{1, 2, 4, 4};
  int num_res_blocks = 2;  // encoder; the decoder has num_res_blocks + 1 per level
  int z_channels = 4;
  int embed_dim = 4;
  bool double_z = true;
  int in_channels = 3;
  int out_ch = 3;
  bool attn_linear = false;  // mid-block q/k/v/proj_out stored as [ch,ch] (diffusers conversion) not [ch,ch,1,1]
  bool operator==(const SD15VAEConfig&) const = default;
};

struct SD15CLIPConfig {
  int vocab_size = 49408;
  int max_positions = 77;
  int hidden_size = 768;
  int num_layers = 12;
  int intermediate_size = 3072;
  int num_heads = 12;  // not in the file: hidden_size / 64 unless overridden
  bool operator==(const SD15CLIPConfig&) const = default;
};

struct SD15Config {
  SD15UNetConfig unet;
  SD15VAEConfig vae;
  SD15CLIPConfig clip;
  // Filled by detection (not part of the architecture, ignored by ==):
  StDType unet_dtype = StDType::F32, vae_dtype = StDType::F32, clip_dtype = StDType::F32;  // of the first conv/embedding
  bool has_position_ids = false;        // present and unused
  bool has_schedule_buffers = false;    // the 12 DDPM buffers: present and unused
  std::vector<std::string> ignored;     // tensors outside the SD1.x model prefixes (EMA copies, ...)
  bool operator==(const SD15Config& o) const { return unet == o.unet && vae == o.vae && clip == o.clip; }
};

// The architectures this project knows: SD1.5 (Dreamshaper 8 and the like) and the tiny test model.
SD15Config sd15_base_config();
SD15Config tiny_sd15_config();

struct SD15DetectOptions {
  int unet_num_heads = 8;  // SD1.x
  int clip_num_heads = 0;  // 0: hidden_size / 64
};

// What a tensor is, for initialisation (tiny_sd15.h) and for loaders.
enum class SD15Role : uint8_t {
  Weight,             // conv or linear weight; fan_in = in * kh * kw
  Bias,               // conv or linear bias
  NormWeight,         // GroupNorm / LayerNorm scale
  NormBias,           // GroupNorm / LayerNorm shift
  TokenEmbedding,     // [vocab, width]
  PositionEmbedding,  // [positions, width]
  PositionIds,        // int64 [1, positions]; unused, may be absent
  Schedule,           // DDPM buffers, [1000]; unused, may be absent
};
const char* sd15_role_name(SD15Role r);

struct SD15Tensor {
  std::string name;
  std::vector<int64_t> shape;
  SD15Role role = SD15Role::Weight;
  int64_t fan_in = 0;     // Weight only
  bool optional = false;  // PositionIds and Schedule: real files usually have them, loaders ignore them
};

// Every tensor of an SD1.x single-file checkpoint with this architecture, in the creation order of
// tiny-checkpoint.md section 2 (UNet, VAE, text encoder, schedule buffers), not sorted.
std::vector<SD15Tensor> sd15_tensor_layout(const SD15Config& cfg);
// The 12 top-level DDPM buffer names (betas, alphas_cumprod, ...), in layout order.
const std::vector<std::string>& sd15_schedule_buffer_names();

// Reads the architecture from names and shapes, then checks every tensor of sd15_tensor_layout:
// present, the right shape, dtype F32/F16/BF16 (position_ids: an integer or float type). Tensors
// under the model prefixes that the layout does not have are errors too; anything else is listed
// in `ignored`. SDXL, SD2.x and other families are rejected by name. `label` names the file in errors.
SD15Config detect_sd15_config(const std::vector<TensorInfo>& tensors, const std::string& label,
                              const SD15DetectOptions& opts = {});
SD15Config detect_sd15_config(const SafetensorsFile& file, const SD15DetectOptions& opts = {});

// Only the second step: throws SD15ConfigError listing missing, mis-shaped or mis-typed tensors.
void check_sd15_tensors(const std::vector<TensorInfo>& tensors, const SD15Config& cfg, const std::string& label);

std::string shape_string(const std::vector<int64_t>& shape);  // "[320,4,3,3]"

}  // namespace vkdream::model
