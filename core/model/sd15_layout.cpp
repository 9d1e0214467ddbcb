// The SD1.x single-file tensor list from an architecture: the rules of tiny-checkpoint.md section 2,
// with every width, multiplier and count taken from the config (SD1.5 and the tiny model alike).
#include <algorithm>

#include "model/sd15_config.h"

namespace vkdream::model {

SD15Config sd15_base_config() { return SD15Config{}; }

SD15Config tiny_sd15_config() {
  SD15Config c;
  c.unet.model_channels = 32;
  c.unet.context_dim = 64;
  c.unet.time_embed_dim = 128;
  c.vae.ch = 32;
  c.clip.hidden_size = 64;
  c.clip.num_layers = 2;
  c.clip.intermediate_size = 256;
  c.clip.num_heads = 1;
  return c;
}

const char* sd15_role_name(SD15Role r) {
  switch (r) {
    case SD15Role::Weight: return "weight";
    case SD15Role::Bias: return "bias";
    case SD15Role::NormWeight: return "norm_weight";
    case SD15Role::NormBias: return "norm_bias";
    case SD15Role::TokenEmbedding: return "token_embedding";
    case SD15Role::PositionEmbedding: return "position_embedding";
    case SD15Role::PositionIds: return "position_ids";
    case SD15Role::Schedule: return "ddpm";
  }
  return "?";
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {

struct Builder {
  std::vector<SD15Tensor> out;

  void add(std::string name, std::vector<int64_t> shape, SD15Role role, int64_t fan_in = 0, bool optional = false) {
    out.push_back(SD15Tensor{std::move(name), std::move(shape), role, fan_in, optional});
  }
  void linear(const std::string& n, int64_t o, int64_t i, bool bias = true) {
    add(n + ".weight", {o, i}, SD15Role::Weight, i);
    if (bias) add(n + ".bias", {o}, SD15Role::Bias);
  }
  void conv(const std::string& n, int64_t o, int64_t i, int64_t k) {
    add(n + ".weight", {o, i, k, k}, SD15Role::Weight, i * k * k);
    add(n + ".bias", {o}, SD15Role::Bias);
  }
  // A 1x1 projection stored either as a conv [o,i,1,1] or as a linear [o,i].
  void proj(const std::string& n, int64_t o, int64_t i, bool as_linear) {
    if (as_linear)
      linear(n, o, i);
    else
      conv(n, o, i, 1);
  }
  void norm(const std::string& n, int64_t ch) {
    add(n + ".weight", {ch}, SD15Role::NormWeight);
    add(n + ".bias", {ch}, SD15Role::NormBias);
  }
};

std::string num(size_t i) { return std::to_string(i); }

void unet_layout(Builder& b, const SD15UNetConfig& u) {
  const std::string P = "model.diffusion_model.";
  const int64_t C = u.model_channels, E = u.time_embed_dim, ctx = u.context_dim;
  const size_t levels = u.channel_mult.size();
  auto attn_at = [&](size_t level) {
    return std::find(u.attention_levels.begin(), u.attention_levels.end(), int(level)) != u.attention_levels.end();
  };
  auto resblock = [&](const std::string& n, int64_t cin, int64_t cout) {
    b.norm(n + ".in_layers.0", cin);
    b.conv(n + ".in_layers.2", cout, cin, 3);
    b.linear(n + ".emb_layers.1", cout, E);
    b.norm(n + ".out_layers.0", cout);
    b.conv(n + ".out_layers.3", cout, cout, 3);
    if (cin != cout) b.conv(n + ".skip_connection", cout, cin, 1);
  };
  auto transformer = [&](const std::string& n, int64_t ch) {
    b.norm(n + ".norm", ch);
    b.proj(n + ".proj_in", ch, ch, u.use_linear_in_transformer);
    for (int d = 0; d < u.transformer_depth; ++d) {
      std::string t = n + ".transformer_blocks." + num(size_t(d));
      for (const char* w : {".attn1.to_q", ".attn1.to_k", ".attn1.to_v"}) b.linear(t + w, ch, ch, false);
      b.linear(t + ".attn1.to_out.0", ch, ch);
      b.linear(t + ".ff.net.0.proj", 8 * ch, ch);
      b.linear(t + ".ff.net.2", ch, 4 * ch);
      b.linear(t + ".attn2.to_q", ch, ch, false);
      b.linear(t + ".attn2.to_k", ch, ctx, false);
      b.linear(t + ".attn2.to_v", ch, ctx, false);
      b.linear(t + ".attn2.to_out.0", ch, ch);
      for (const char* w : {".norm1", ".norm2", ".norm3"}) b.norm(t + w, ch);
    }
    b.proj(n + ".proj_out", ch, ch, u.use_linear_in_transformer);
  };

  b.linear(P + "time_embed.0", E, C);
  b.linear(P + "time_embed.2", E, E);
  b.conv(P + "input_blocks.0.0", C, u.in_channels, 3);
  std::vector<int64_t> skips{C};
  int64_t ch = C;
  size_t idx = 1;
  for (size_t level = 0; level < levels; ++level) {
    for (int r = 0; r < u.num_res_blocks; ++r) {
      std::string n = P + "input_blocks." + num(idx);
      resblock(n + ".0", ch, u.channel_mult[level] * C);
      ch = u.channel_mult[level] * C;
      if (attn_at(level)) transformer(n + ".1", ch);
      skips.push_back(ch);
      ++idx;
    }
    if (level + 1 != levels) {
      b.conv(P + "input_blocks." + num(idx) + ".0.op", ch, ch, 3);
      skips.push_back(ch);
      ++idx;
    }
  }
  resblock(P + "middle_block.0", ch, ch);
  transformer(P + "middle_block.1", ch);
  resblock(P + "middle_block.2", ch, ch);
  idx = 0;
  for (size_t level = levels; level-- > 0;) {
    for (int i = 0; i <= u.num_res_blocks; ++i) {
      std::string n = P + "output_blocks." + num(idx);
      int64_t skip = skips.back();
      skips.pop_back();
      resblock(n + ".0", ch + skip, u.channel_mult[level] * C);
      ch = u.channel_mult[level] * C;
      int sub = 1;
      if (attn_at(level)) {
        transformer(n + ".1", ch);
        sub = 2;
      }
      if (level != 0 && i == u.num_res_blocks) b.conv(n + "." + num(size_t(sub)) + ".conv", ch, ch, 3);
      ++idx;
    }
  }
  b.norm(P + "out.0", ch);
  b.conv(P + "out.2", u.out_channels, ch, 3);
}

void vae_layout(Builder& b, const SD15VAEConfig& v) {
  const std::string V = "first_stage_model.";
  const int64_t C = v.ch;
  const size_t levels = v.ch_mult.size();
  const int64_t top = C * v.ch_mult.back();
  const int64_t zc = v.double_z ? 2 * v.z_channels : v.z_channels;
  auto res = [&](const std::string& n, int64_t cin, int64_t cout) {
    b.norm(n + ".norm1", cin);
    b.conv(n + ".conv1", cout, cin, 3);
    b.norm(n + ".norm2", cout);
    b.conv(n + ".conv2", cout, cout, 3);
    if (cin != cout) b.conv(n + ".nin_shortcut", cout, cin, 1);
  };
  auto attn = [&](const std::string& n, int64_t ch) {
    b.norm(n + ".norm", ch);
    for (const char* w : {".q", ".k", ".v", ".proj_out"}) b.proj(n + w, ch, ch, v.attn_linear);
  };
  const std::string e = V + "encoder.";
  b.conv(e + "conv_in", C, v.in_channels, 3);
  int64_t cin = C;
  for (size_t i = 0; i < levels; ++i) {
    for (int j = 0; j < v.num_res_blocks; ++j) {
      res(e + "down." + num(i) + ".block." + num(size_t(j)), cin, C * v.ch_mult[i]);
      cin = C * v.ch_mult[i];
    }
    if (i + 1 != levels) b.conv(e + "down." + num(i) + ".downsample.conv", cin, cin, 3);
  }
  res(e + "mid.block_1", top, top);
  attn(e + "mid.attn_1", top);
  res(e + "mid.block_2", top, top);
  b.norm(e + "norm_out", top);
  b.conv(e + "conv_out", zc, top, 3);

  const std::string d = V + "decoder.";
  b.conv(d + "conv_in", top, v.z_channels, 3);
  res(d + "mid.block_1", top, top);
  attn(d + "mid.attn_1", top);
  res(d + "mid.block_2", top, top);
  cin = top;
  for (size_t i = levels; i-- > 0;) {
    for (int j = 0; j <= v.num_res_blocks; ++j) {
      res(d + "up." + num(i) + ".block." + num(size_t(j)), cin, C * v.ch_mult[i]);
      cin = C * v.ch_mult[i];
    }
    if (i != 0) b.conv(d + "up." + num(i) + ".upsample.conv", cin, cin, 3);
  }
  b.norm(d + "norm_out", C);
  b.conv(d + "conv_out", v.out_ch, C, 3);
  b.conv(V + "quant_conv", 2 * v.embed_dim, zc, 1);
  b.conv(V + "post_quant_conv", v.z_channels, v.embed_dim, 1);
}

void clip_layout(Builder& b, const SD15CLIPConfig& c) {
  const std::string T = "cond_stage_model.transformer.text_model.";
  const int64_t H = c.hidden_size;
  b.add(T + "embeddings.token_embedding.weight", {c.vocab_size, H}, SD15Role::TokenEmbedding);
  b.add(T + "embeddings.position_embedding.weight", {c.max_positions, H}, SD15Role::PositionEmbedding);
  b.add(T + "embeddings.position_ids", {1, c.max_positions}, SD15Role::PositionIds, 0, true);
  for (int l = 0; l < c.num_layers; ++l) {
    std::string L = T + "encoder.layers." + num(size_t(l)) + ".";
    for (const char* w : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"})
      b.linear(L + w, H, H);
    b.norm(L + "layer_norm1", H);
    b.linear(L + "mlp.fc1", c.intermediate_size, H);
    b.linear(L + "mlp.fc2", H, c.intermediate_size);
    b.norm(L + "layer_norm2", H);
  }
  b.norm(T + "final_layer_norm", H);
}

}  // namespace

const std::vector<std::string>& sd15_schedule_buffer_names() {
  static const std::vector<std::string> kNames = {
      "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
      "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod",
      "posterior_variance", "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2"};
  return kNames;
}

std::vector<SD15Tensor> sd15_tensor_layout(const SD15Config& cfg) {
  Builder b;
  unet_layout(b, cfg.unet);
  vae_layout(b, cfg.vae);
  clip_layout(b, cfg.clip);
  for (const auto& n : sd15_schedule_buffer_names()) b.add(n, {1000}, SD15Role::Schedule, 0, true);
  return std::move(b.out);
}

}  // namespace vkdream::model
