// The SD1.x UNet (LDM openaimodel, eps prediction), structured after the checkpoint's own paths
// (prefix model.diffusion_model.): time_embed, input_blocks.N.M, middle_block.M, output_blocks.N.M,
// out. ResBlocks take the timestep embedding; SpatialTransformers attend to the text context.
#pragma once
#include <memory>
#include <vector>

#include "model/sd15_config.h"
#include "model/unet_patches.h"
#include "model/weights.h"

namespace vkdream::model {

class UNet {
 public:
  static constexpr const char* kPrefix = "model.diffusion_model.";
  UNet(const SD15UNetConfig& cfg, Weights weights) : cfg_(cfg), w_(std::move(weights)) {}

  // eps for x [B, in_channels, H, W] (H, W multiples of 8 in pixels / 1 in latents), fractional
  // timesteps [B] and context [B, L, context_dim]. Runs in the weights' storage dtype. `patches` (FreeU)
  // apply where ComfyUI applies them; none by default.
  Tensor forward(vk::Stream& s, const Tensor& x, const std::vector<float>& timesteps, const Tensor& context,
                 const UNetPatches& patches = {}) const;

  const SD15UNetConfig& config() const { return cfg_; }
  Weights& weights() { return w_; }
  const Weights& weights() const { return w_; }

 private:
  Tensor res_block(vk::Stream& s, const WeightScope& w, const Tensor& x, const Tensor& emb_silu) const;
  // context: [B, L, context_dim] whose first `keys` rows are the text (the rest padding).
  Tensor spatial_transformer(vk::Stream& s, const WeightScope& w, const Tensor& x, const Tensor& context,
                             int64_t keys) const;
  ops::FFTPlans& fft_plans(vk::Stream& s) const;
  SD15UNetConfig cfg_;
  Weights w_;
  // VkFFT plans for FreeU's Fourier filter, made on first use (a cache: copies of the UNet may share it).
  mutable std::shared_ptr<ops::FFTPlans> fft_plans_;
};

}  // namespace vkdream::model
