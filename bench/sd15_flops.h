// Multiply-add counts (2 FLOPs each) of the SD1.x networks, from their configs, for GFLOP/s figures: every
// convolution, linear layer and attention product; norms, activations and elementwise ops are left out (they
// are memory-bound and a few percent of the work).
#pragma once
#include <cstdint>

#include "model/sd15_config.h"

namespace vkdream::bench {

// One UNet forward for a batch of latents [batch, in, h, w] with a text context of ctx_tokens tokens.
double unet_flops(const model::SD15UNetConfig& c, int64_t batch, int64_t h, int64_t w, int64_t ctx_tokens = 77);
// The text encoder on batch rows of `tokens` tokens (all layers).
double clip_flops(const model::SD15CLIPConfig& c, int64_t batch, int64_t tokens = 77);
// The VAE decoder (post_quant_conv included) from a latent [batch, 4, h, w] to an image 8h x 8w.
double vae_decode_flops(const model::SD15VAEConfig& c, int64_t batch, int64_t h, int64_t w);

}  // namespace vkdream::bench
