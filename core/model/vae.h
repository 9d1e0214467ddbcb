// The SD1.x KL autoencoder (prefix first_stage_model.), after the checkpoint's paths: encoder.*,
// quant_conv, post_quant_conv, decoder.*. Latents here are in VAE space (ComfyUI's LATENT: no
// 0.18215 scaling inside; KSampler applies it). Images are NCHW in [0, 1].
#pragma once
#include "model/sd15_config.h"
#include "model/weights.h"

namespace vkdream::model {

class VAE {
 public:
  static constexpr const char* kPrefix = "first_stage_model.";
  VAE(const SD15VAEConfig& cfg, Weights weights) : cfg_(cfg), w_(std::move(weights)) {}

  // latent [B, z, h, w] -> image [B, 3, 8h, 8w] in [0, 1] (ComfyUI's clamp((x + 1) / 2, 0, 1)), f32.
  Tensor decode(vk::Stream& s, const Tensor& latent) const;
  // The decoder's own output (about [-1, 1], no clamp), f32: what tiled decoding blends.
  Tensor decode_raw(vk::Stream& s, const Tensor& latent) const;
  // image [B, 3, H, W] in [0, 1] -> latent [B, z, H/8, W/8]: the posterior mean, f32.
  Tensor encode(vk::Stream& s, const Tensor& image) const;

  const SD15VAEConfig& config() const { return cfg_; }
  Weights& weights() { return w_; }
  const Weights& weights() const { return w_; }
  int downscale() const { return 1 << (int(cfg_.ch_mult.size()) - 1); }

 private:
  Tensor resnet_block(vk::Stream& s, const WeightScope& w, const Tensor& x) const;
  Tensor attn_block(vk::Stream& s, const WeightScope& w, const Tensor& x) const;
  SD15VAEConfig cfg_;
  Weights w_;
};

}  // namespace vkdream::model
