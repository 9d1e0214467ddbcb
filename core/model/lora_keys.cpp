// ComfyUI's LoRA key map for SD1.x: model_lora_keys_unet (LDM names, generic names of weights and biases,
// and the diffusers names of comfy.utils.unet_to_diffusers in kohya, lycoris and diffusers/peft spellings)
// followed by model_lora_keys_clip for the clip_l text model.
#include <map>
#include <string>
#include <vector>

#include "model/lora.h"

namespace vkdream::model {
namespace {

// A Python dict: insertion order, assignment to an existing key keeps its place.
class KeyMap {
 public:
  void set(const std::string& k, const std::string& v) {
    auto it = index_.find(k);
    if (it != index_.end()) {
      items_[it->second].second = v;
      return;
    }
    index_[k] = items_.size();
    items_.emplace_back(k, v);
  }
  std::vector<std::pair<std::string, std::string>> take() { return std::move(items_); }

 private:
  std::map<std::string, size_t> index_;
  std::vector<std::pair<std::string, std::string>> items_;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}
bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}
std::string str(int i) { return std::to_string(i); }

// The ".weight" entries of utils.UNET_MAP_RESNET / UNET_MAP_ATTENTIONS / TRANSFORMER_BLOCKS (ldm -> diffusers);
// biases never name a LoRA module.
const std::vector<std::pair<std::string, std::string>> kResnet = {
    {"in_layers.2", "conv1"},       {"emb_layers.1", "time_emb_proj"}, {"out_layers.3", "conv2"},
    {"skip_connection", "conv_shortcut"}, {"in_layers.0", "norm1"},    {"out_layers.0", "norm2"}};
const std::vector<std::string> kAttention = {"proj_in", "proj_out", "norm"};
const std::vector<std::string> kTransformer = {"norm1", "norm2", "norm3", "attn1.to_q", "attn1.to_k", "attn1.to_v",
                                               "attn1.to_out.0", "attn2.to_q", "attn2.to_k", "attn2.to_v",
                                               "attn2.to_out.0", "ff.net.0.proj", "ff.net.2"};

// unet_to_diffusers restricted to weights: diffusers module path -> LDM module path (no ".weight").
std::vector<std::pair<std::string, std::string>> unet_to_diffusers(const SD15UNetConfig& c) {
  std::vector<std::pair<std::string, std::string>> m;
  const int levels = int(c.channel_mult.size()), nrb = c.num_res_blocks;
  auto has_attn = [&](int level) {
    for (int l : c.attention_levels)
      if (l == level) return true;
    return false;
  };
  auto attention = [&](const std::string& d, const std::string& l) {
    for (auto& b : kAttention) m.emplace_back(d + "." + b, l + "." + b);
    for (int t = 0; t < c.transformer_depth; ++t)
      for (auto& b : kTransformer)
        m.emplace_back(d + ".transformer_blocks." + str(t) + "." + b, l + ".transformer_blocks." + str(t) + "." + b);
  };
  for (int x = 0; x < levels; ++x) {
    int n = 1 + (nrb + 1) * x;
    for (int i = 0; i < nrb; ++i) {
      for (auto& [l, d] : kResnet)
        m.emplace_back("down_blocks." + str(x) + ".resnets." + str(i) + "." + d, "input_blocks." + str(n) + ".0." + l);
      if (has_attn(x)) attention("down_blocks." + str(x) + ".attentions." + str(i), "input_blocks." + str(n) + ".1");
      ++n;
    }
    m.emplace_back("down_blocks." + str(x) + ".downsamplers.0.conv", "input_blocks." + str(n) + ".0.op");
  }
  attention("mid_block.attentions.0", "middle_block.1");
  for (int i = 0; i < 2; ++i)
    for (auto& [l, d] : kResnet) m.emplace_back("mid_block.resnets." + str(i) + "." + d, "middle_block." + str(2 * i) + "." + l);
  for (int x = 0; x < levels; ++x) {
    const int level = levels - 1 - x;  // up_blocks.0 is the deepest level
    int n = (nrb + 1) * x;
    const int l = nrb + 1;
    for (int i = 0; i < l; ++i) {
      int cidx = 1;
      for (auto& [ld, d] : kResnet)
        m.emplace_back("up_blocks." + str(x) + ".resnets." + str(i) + "." + d, "output_blocks." + str(n) + ".0." + ld);
      if (has_attn(level) && c.transformer_depth > 0) {
        ++cidx;
        attention("up_blocks." + str(x) + ".attentions." + str(i), "output_blocks." + str(n) + ".1");
      }
      if (i == l - 1)
        m.emplace_back("up_blocks." + str(x) + ".upsamplers.0.conv", "output_blocks." + str(n) + "." + str(cidx) + ".conv");
      ++n;
    }
  }
  // UNET_MAP_BASIC (the label_emb entries do not exist in SD1.5 and are left out).
  m.emplace_back("conv_in", "input_blocks.0.0");
  m.emplace_back("conv_norm_out", "out.0");
  m.emplace_back("conv_out", "out.2");
  m.emplace_back("time_embedding.linear_1", "time_embed.0");
  m.emplace_back("time_embedding.linear_2", "time_embed.2");
  return m;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> sd15_lora_key_map(const SD15Config& cfg) {
  KeyMap km;
  const std::string U = UNet::kPrefix;  // "model.diffusion_model."
  const std::string T = "cond_stage_model.transformer.";
  // model_lora_keys_unet: every UNet weight under its LDM name, kohya and generic spellings; every other
  // UNet tensor (the biases) under its own generic name, so `diffusion_model.X.bias.diff` patches it.
  for (const auto& t : sd15_tensor_layout(cfg)) {
    if (t.name.compare(0, U.size(), U) != 0) continue;
    if (!ends_with(t.name, ".weight")) {
      km.set("diffusion_model." + t.name.substr(U.size()), t.name);
      continue;
    }
    std::string path = t.name.substr(U.size(), t.name.size() - U.size() - 7);
    km.set("lora_unet_" + replace_all(path, ".", "_"), t.name);
    km.set("diffusion_model." + path, t.name);
  }
  for (auto& [d, l] : unet_to_diffusers(cfg.unet)) {
    const std::string target = U + l + ".weight";
    const std::string flat = replace_all(d, ".", "_");
    km.set("lora_unet_" + flat, target);
    km.set("lycoris_" + flat, target);
    for (const char* p : {"", "unet."}) {
      std::string k = p + replace_all(d, ".to_", ".processor.to_");
      if (ends_with(k, ".to_out.0")) k.resize(k.size() - 2);
      km.set(k, target);
    }
  }
  // model_lora_keys_clip for SD1's clip_l: generic names of every weight, then the encoder layers' names.
  const std::string C = CLIPTextModel::kPrefix;  // "cond_stage_model.transformer.text_model."
  for (const auto& t : sd15_tensor_layout(cfg)) {
    if (t.name.compare(0, C.size(), C) != 0 || !ends_with(t.name, ".weight")) continue;
    std::string path = t.name.substr(T.size(), t.name.size() - T.size() - 7);  // text_model.....
    km.set("text_encoders.clip_l.transformer." + path, t.name);
  }
  static const std::vector<std::pair<std::string, std::string>> kClipMap = {
      {"mlp.fc1", "mlp_fc1"},
      {"mlp.fc2", "mlp_fc2"},
      {"self_attn.k_proj", "self_attn_k_proj"},
      {"self_attn.q_proj", "self_attn_q_proj"},
      {"self_attn.v_proj", "self_attn_v_proj"},
      {"self_attn.out_proj", "self_attn_out_proj"}};
  for (int b = 0; b < cfg.clip.num_layers; ++b)
    for (auto& [c, k] : kClipMap) {
      const std::string target = C + "encoder.layers." + str(b) + "." + c + ".weight";
      km.set("lora_te_text_model_encoder_layers_" + str(b) + "_" + k, target);
      km.set("lora_te1_text_model_encoder_layers_" + str(b) + "_" + k, target);
      km.set("text_encoder.text_model.encoder.layers." + str(b) + "." + c, target);
    }
  // ComfyUI's clip_l has a text_projection (identity for SD1.x); our checkpoints do not, so a patch of it
  // ends as NOT LOADED.
  km.set("lora_te1_text_projection", T + "text_projection.weight");
  return km.take();
}

}  // namespace vkdream::model
