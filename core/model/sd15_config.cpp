// SD1.x architecture detection from tensor names and shapes (after ComfyUI's
// comfy/model_detection.py: detect_unet_config / calculate_transformer_depth), then a full check
// of the tensor list that architecture implies (sd15_layout.cpp).
#include <algorithm>
#include <map>

#include "model/sd15_config.h"

namespace vkdream::model {
namespace {

const std::string kUNet = "model.diffusion_model.";
const std::string kVAE = "first_stage_model.";
const std::string kCLIP = "cond_stage_model.transformer.text_model.";

class Index {
 public:
  Index(const std::vector<TensorInfo>& tensors, std::string label) : label_(std::move(label)) {
    for (const auto& t : tensors)
      if (!by_name_.emplace(t.name, &t).second) fail("duplicate tensor name '" + t.name + "'");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw SD15ConfigError("checkpoint '" + label_ + "': " + what);
  }
  const TensorInfo* get(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }
  bool has_prefix(const std::string& prefix) const {
    auto it = by_name_.lower_bound(prefix);
    return it != by_name_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
  }
  // Number of consecutive indices 0, 1, ... with tensors under prefix + "N.".
  int count_indexed(const std::string& prefix) const {
    int n = 0;
    while (has_prefix(prefix + std::to_string(n) + ".")) ++n;
    return n;
  }
  // A tensor needed to read the architecture, with `ndim` dimensions (0: 2 or 4).
  const TensorInfo& need(const std::string& name, size_t ndim, const char* what) const {
    const TensorInfo* t = get(name);
    if (!t) fail("missing tensor '" + name + "' (" + what + ")");
    bool ok = ndim ? t->shape.size() == ndim : (t->shape.size() == 2 || t->shape.size() == 4);
    for (int64_t d : t->shape) ok = ok && d > 0;
    if (!ok)
      fail("tensor '" + name + "' has shape " + shape_string(t->shape) + ", expected a " +
           (ndim ? std::to_string(ndim) + "-D" : std::string("2-D or 4-D")) + " " + what);
    return *t;
  }
  // shape[dim] / base, which must divide exactly.
  int multiple_of(const TensorInfo& t, size_t dim, int64_t base, const char* base_name) const {
    if (t.shape[dim] % base != 0)
      fail("tensor '" + t.name + "' has shape " + shape_string(t.shape) + ": " + std::to_string(t.shape[dim]) +
           " channels are not a multiple of " + base_name + " " + std::to_string(base));
    return int(t.shape[dim] / base);
  }
  const std::map<std::string, const TensorInfo*>& all() const { return by_name_; }
  const std::string& label() const { return label_; }

 private:
  std::string label_;
  std::map<std::string, const TensorInfo*> by_name_;
};

// Families that share some names with SD1.x but are not it: a clear refusal, before anything else.
void reject_other_families(const Index& ix) {
  const char* only = "; only SD1.x checkpoints (SD1.5 and its fine-tunes) are supported";
  if (ix.has_prefix("conditioner.embedders."))
    ix.fail(std::string("this is an SDXL checkpoint (it has conditioner.embedders.* tensors)") + only);
  if (ix.has_prefix("cond_stage_model.model."))
    ix.fail(std::string("this is an SD2.x checkpoint (OpenCLIP text encoder tensors cond_stage_model.model.*)") + only);
  if (ix.has_prefix(kUNet + "label_emb."))
    ix.fail(std::string("this UNet is class-conditioned (model.diffusion_model.label_emb.*, SDXL/unCLIP)") + only);
  if (ix.has_prefix(kUNet + "joint_blocks."))
    ix.fail(std::string("this is an SD3 checkpoint (model.diffusion_model.joint_blocks.*)") + only);
  if (ix.has_prefix(kUNet + "double_blocks.") || ix.has_prefix("double_blocks."))
    ix.fail(std::string("this is a Flux checkpoint (double_blocks.*)") + only);
  if (!ix.get(kUNet + "input_blocks.0.0.weight")) {
    std::string what = "not an SD1.x single-file checkpoint: there is no tensor 'model.diffusion_model.input_blocks.0.0.weight'";
    if (ix.has_prefix("down_blocks.") || ix.has_prefix("unet.") || ix.has_prefix("conv_in."))
      what += " (the names look like the diffusers layout, which is not supported)";
    else if (!ix.all().empty())
      what += " (the first tensor is '" + ix.all().begin()->first + "')";
    else
      what += " (the file has no tensors)";
    ix.fail(what);
  }
  if (!ix.has_prefix(kVAE))
    ix.fail("no VAE: the checkpoint has no first_stage_model.* tensors (a UNet-only file is not a checkpoint)");
  if (!ix.has_prefix(kCLIP)) {
    if (ix.has_prefix("cond_stage_model.transformer.embeddings."))
      ix.fail("the text encoder uses the old 'cond_stage_model.transformer.embeddings.*' names (without "
              "'text_model.'), which are not supported");
    ix.fail("no CLIP text encoder: the checkpoint has no cond_stage_model.transformer.text_model.* tensors");
  }
}

SD15UNetConfig detect_unet(const Index& ix, const SD15DetectOptions& opts) {
  SD15UNetConfig u;
  const auto& conv_in = ix.need(kUNet + "input_blocks.0.0.weight", 4, "UNet input conv [model_channels,in,3,3]");
  u.model_channels = int(conv_in.shape[0]);
  u.in_channels = int(conv_in.shape[1]);
  if (u.in_channels != 4 && u.in_channels != 9)
    ix.fail("tensor '" + conv_in.name + "' has shape " + shape_string(conv_in.shape) + ": the UNet takes " +
            std::to_string(u.in_channels) + " input channels; SD1.x has 4 (9 for inpainting models)");
  if (u.model_channels % 32 != 0)
    ix.fail("tensor '" + conv_in.name + "' has shape " + shape_string(conv_in.shape) + ": model_channels " +
            std::to_string(u.model_channels) + " is not a multiple of the 32 GroupNorm groups");
  u.out_channels = int(ix.need(kUNet + "out.2.weight", 4, "UNet output conv").shape[0]);
  u.time_embed_dim = int(ix.need(kUNet + "time_embed.0.weight", 2, "time embedding linear").shape[0]);

  struct Level {
    int res = 0, mult = 0;
    bool attn = false;
  };
  std::vector<Level> levels;
  Level cur;
  int depth = 0;
  int ctx = 0;
  bool lin = false;
  for (int idx = 1; ix.has_prefix(kUNet + "input_blocks." + std::to_string(idx) + "."); ++idx) {
    const std::string pre = kUNet + "input_blocks." + std::to_string(idx) + ".";
    if (ix.get(pre + "0.op.weight")) {  // downsample: the level ends
      if (cur.res == 0) ix.fail("'" + pre + "0.op' is a downsample with no res block before it");
      levels.push_back(cur);
      cur = Level{};
      continue;
    }
    if (!ix.get(pre + "0.in_layers.0.weight"))
      ix.fail("'" + pre + "*' is neither a res block (" + pre + "0.in_layers.0.weight) nor a downsample (" + pre +
              "0.op.weight)");
    const auto& out = ix.need(pre + "0.out_layers.3.weight", 4, "res block output conv");
    int mult = ix.multiple_of(out, 0, u.model_channels, "model_channels");
    bool attn = ix.has_prefix(pre + "1.transformer_blocks.");
    if (cur.res > 0 && (mult != cur.mult || attn != cur.attn))
      ix.fail("'" + pre + "0' differs from the res block before it in width or attention, within one level (" +
              std::to_string(mult * u.model_channels) + " vs " + std::to_string(cur.mult * u.model_channels) +
              " channels); not an SD1.x UNet");
    cur.res++;
    cur.mult = mult;
    cur.attn = attn;
    if (!attn) continue;
    // calculate_transformer_depth: block count, context from attn2.to_k, linear proj_in from its rank.
    const std::string tp = pre + "1.transformer_blocks.";
    int d = ix.count_indexed(tp);
    int c = int(ix.need(tp + "0.attn2.to_k.weight", 2, "cross-attention key projection [ch,context_dim]").shape[1]);
    bool l = ix.need(pre + "1.proj_in.weight", 0, "transformer proj_in").shape.size() == 2;
    if (depth == 0) {
      depth = d, ctx = c, lin = l;
    } else if (d != depth || c != ctx || l != lin) {
      ix.fail("the transformer in '" + pre + "1' (depth " + std::to_string(d) + ", context " + std::to_string(c) +
              ") differs from the first one (depth " + std::to_string(depth) + ", context " + std::to_string(ctx) +
              "); not an SD1.x UNet");
    }
  }
  if (cur.res > 0) levels.push_back(cur);
  if (levels.empty()) ix.fail("the UNet has no res blocks under model.diffusion_model.input_blocks.*");
  if (depth == 0) ix.fail("the UNet has no cross-attention transformer (no input_blocks.*.1.transformer_blocks.*)");

  u.num_res_blocks = levels[0].res;
  u.channel_mult.clear();
  u.attention_levels.clear();
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].res != u.num_res_blocks)
      ix.fail("UNet level " + std::to_string(i) + " has " + std::to_string(levels[i].res) +
              " res blocks, level 0 has " + std::to_string(u.num_res_blocks) + "; not an SD1.x UNet");
    u.channel_mult.push_back(levels[i].mult);
    if (levels[i].attn) {
      u.attention_levels.push_back(int(i));
      int ch = levels[i].mult * u.model_channels;
      if (ch % opts.unet_num_heads != 0)
        ix.fail("UNet width " + std::to_string(ch) + " at level " + std::to_string(i) + " does not divide into " +
                std::to_string(opts.unet_num_heads) + " heads");
    }
  }
  u.transformer_depth = depth;
  u.context_dim = ctx;
  u.use_linear_in_transformer = lin;
  u.num_heads = opts.unet_num_heads;
  if (ctx == 1024)
    ix.fail("the UNet's cross-attention context is 1024 wide (tensor '" + kUNet +
            "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight'): this is an SD2.x model; SD1.x uses 768");
  return u;
}

SD15VAEConfig detect_vae(const Index& ix) {
  SD15VAEConfig v;
  const std::string e = kVAE + "encoder.", d = kVAE + "decoder.";
  const auto& conv_in = ix.need(e + "conv_in.weight", 4, "VAE encoder input conv [ch,3,3,3]");
  v.ch = int(conv_in.shape[0]);
  v.in_channels = int(conv_in.shape[1]);
  if (v.ch % 32 != 0)
    ix.fail("tensor '" + conv_in.name + "' has shape " + shape_string(conv_in.shape) + ": VAE width " +
            std::to_string(v.ch) + " is not a multiple of the 32 GroupNorm groups");
  int levels = ix.count_indexed(e + "down.");
  if (levels == 0) ix.fail("the VAE encoder has no down blocks (first_stage_model.encoder.down.0.*)");
  v.num_res_blocks = ix.count_indexed(e + "down.0.block.");
  v.ch_mult.clear();
  for (int i = 0; i < levels; ++i) {
    const auto& c = ix.need(e + "down." + std::to_string(i) + ".block.0.conv1.weight", 4, "VAE res block conv");
    v.ch_mult.push_back(ix.multiple_of(c, 0, v.ch, "the VAE width"));
  }
  int zc = int(ix.need(e + "conv_out.weight", 4, "VAE encoder output conv").shape[0]);
  v.z_channels = int(ix.need(d + "conv_in.weight", 4, "VAE decoder input conv").shape[1]);
  if (zc == 2 * v.z_channels)
    v.double_z = true;
  else if (zc == v.z_channels)
    v.double_z = false;
  else
    ix.fail("the VAE encoder outputs " + std::to_string(zc) + " channels (tensor '" + e +
            "conv_out.weight') but the decoder takes " + std::to_string(v.z_channels) + " (tensor '" + d +
            "conv_in.weight')");
  v.embed_dim = int(ix.need(kVAE + "post_quant_conv.weight", 4, "VAE post_quant_conv").shape[1]);
  v.out_ch = int(ix.need(d + "conv_out.weight", 4, "VAE decoder output conv").shape[0]);
  v.attn_linear = ix.need(e + "mid.attn_1.q.weight", 0, "VAE mid-block attention").shape.size() == 2;
  return v;
}

SD15CLIPConfig detect_clip(const Index& ix, const SD15DetectOptions& opts) {
  SD15CLIPConfig c;
  const auto& tok = ix.need(kCLIP + "embeddings.token_embedding.weight", 2, "token embedding [vocab,width]");
  c.vocab_size = int(tok.shape[0]);
  c.hidden_size = int(tok.shape[1]);
  c.max_positions = int(ix.need(kCLIP + "embeddings.position_embedding.weight", 2, "position embedding").shape[0]);
  c.num_layers = ix.count_indexed(kCLIP + "encoder.layers.");
  if (c.num_layers == 0) ix.fail("the text encoder has no layers (" + kCLIP + "encoder.layers.0.*)");
  c.intermediate_size = int(ix.need(kCLIP + "encoder.layers.0.mlp.fc1.weight", 2, "CLIP MLP fc1").shape[0]);
  if (opts.clip_num_heads > 0) {
    c.num_heads = opts.clip_num_heads;
  } else {
    if (c.hidden_size % 64 != 0)
      ix.fail("CLIP width " + std::to_string(c.hidden_size) +
              " is not a multiple of 64, so the head count is unknown (set SD15DetectOptions::clip_num_heads)");
    c.num_heads = c.hidden_size / 64;
  }
  if (c.hidden_size % c.num_heads != 0)
    ix.fail("CLIP width " + std::to_string(c.hidden_size) + " does not divide into " + std::to_string(c.num_heads) +
            " heads");
  return c;
}

bool is_float(StDType t) { return t == StDType::F32 || t == StDType::F16 || t == StDType::BF16; }

// Problems with the expected tensor list, in layout order; tensors outside the model prefixes go to `ignored`.
std::vector<std::string> tensor_problems(const Index& ix, const SD15Config& cfg, std::vector<std::string>* ignored) {
  std::vector<std::string> problems;
  std::map<std::string, bool> expected;
  for (const auto& s : sd15_tensor_layout(cfg)) {
    expected[s.name] = true;
    const TensorInfo* t = ix.get(s.name);
    bool schedule = s.role == SD15Role::Schedule;
    if (!t) {
      if (!s.optional) problems.push_back("missing tensor '" + s.name + "' (expected F32/F16/BF16 " + shape_string(s.shape) + ")");
      continue;
    }
    bool shape_ok = schedule ? t->shape.size() == 1 : t->shape == s.shape;
    if (!shape_ok)
      problems.push_back("tensor '" + s.name + "' has shape " + shape_string(t->shape) + ", expected " +
                         (schedule ? std::string("1-D") : shape_string(s.shape)));
    bool dtype_ok = is_float(t->dtype);
    if (s.role == SD15Role::PositionIds) dtype_ok = dtype_ok || t->dtype == StDType::I64 || t->dtype == StDType::I32;
    if (schedule) dtype_ok = dtype_ok || t->dtype == StDType::F64;
    if (!dtype_ok)
      problems.push_back("tensor '" + s.name + "' has dtype " + st_dtype_name(t->dtype) + ", expected " +
                         (s.role == SD15Role::PositionIds ? "I64, I32, F32, F16 or BF16" : "F32, F16 or BF16"));
  }
  for (const auto& [name, t] : ix.all()) {
    if (expected.count(name)) continue;
    bool model = name.compare(0, kUNet.size(), kUNet) == 0 || name.compare(0, kVAE.size(), kVAE) == 0 ||
                 name.compare(0, kCLIP.size(), kCLIP) == 0;
    if (model)
      problems.push_back("unexpected tensor '" + name + "' " + shape_string(t->shape) +
                         " (not part of the SD1.x layout detected)");
    else if (ignored)
      ignored->push_back(name);
  }
  return problems;
}

std::string describe(const SD15Config& c) {
  auto list = [](const std::vector<int>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += ',';
      s += std::to_string(v[i]);
    }
    return s + "]";
  };
  return "UNet " + std::to_string(c.unet.model_channels) + " x " + list(c.unet.channel_mult) + ", context " +
         std::to_string(c.unet.context_dim) + "; VAE " + std::to_string(c.vae.ch) + " x " + list(c.vae.ch_mult) +
         "; CLIP " + std::to_string(c.clip.hidden_size) + " wide, " + std::to_string(c.clip.num_layers) + " layers";
}

void throw_problems(const Index& ix, const SD15Config& cfg, const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  std::string msg = std::to_string(problems.size()) + " problem" + (problems.size() > 1 ? "s" : "") +
                    " with the SD1.x tensors (detected " + describe(cfg) + "): ";
  constexpr size_t kShown = 8;
  for (size_t i = 0; i < problems.size() && i < kShown; ++i) {
    if (i) msg += "; ";
    msg += problems[i];
  }
  if (problems.size() > kShown) msg += "; and " + std::to_string(problems.size() - kShown) + " more";
  ix.fail(msg);
}

}  // namespace

SD15Config detect_sd15_config(const std::vector<TensorInfo>& tensors, const std::string& label,
                              const SD15DetectOptions& opts) {
  Index ix(tensors, label);
  reject_other_families(ix);
  SD15Config cfg;
  cfg.unet = detect_unet(ix, opts);
  cfg.vae = detect_vae(ix);
  cfg.clip = detect_clip(ix, opts);
  if (cfg.unet.context_dim != cfg.clip.hidden_size)
    ix.fail("the UNet's cross-attention context is " + std::to_string(cfg.unet.context_dim) +
            " wide but the text encoder is " + std::to_string(cfg.clip.hidden_size) + " wide");
  if (cfg.unet.out_channels != cfg.vae.z_channels)
    ix.fail("the UNet outputs " + std::to_string(cfg.unet.out_channels) + " latent channels but the VAE has " +
            std::to_string(cfg.vae.z_channels));
  throw_problems(ix, cfg, tensor_problems(ix, cfg, &cfg.ignored));
  cfg.unet_dtype = ix.get(kUNet + "input_blocks.0.0.weight")->dtype;
  cfg.vae_dtype = ix.get(kVAE + "encoder.conv_in.weight")->dtype;
  cfg.clip_dtype = ix.get(kCLIP + "embeddings.token_embedding.weight")->dtype;
  cfg.has_position_ids = ix.get(kCLIP + "embeddings.position_ids") != nullptr;
  cfg.has_schedule_buffers = true;
  for (const auto& n : sd15_schedule_buffer_names()) cfg.has_schedule_buffers &= ix.get(n) != nullptr;
  return cfg;
}

SD15Config detect_sd15_config(const SafetensorsFile& file, const SD15DetectOptions& opts) {
  return detect_sd15_config(file.tensors(), file.path(), opts);
}

void check_sd15_tensors(const std::vector<TensorInfo>& tensors, const SD15Config& cfg, const std::string& label) {
  Index ix(tensors, label);
  throw_problems(ix, cfg, tensor_problems(ix, cfg, nullptr));
}

}  // namespace vkdream::model
