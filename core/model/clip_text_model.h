// The CLIP ViT-L/14 text tower as SD1.x uses it (checkpoint prefix
// cond_stage_model.transformer.text_model.): token + position embedding, pre-LN transformer layers
// with causal self-attention and quick_gelu MLPs, final LayerNorm. Mirrors ComfyUI's CLIPTextModel_
// and SDClipModel: CLIPSetLastLayer picks an earlier layer (final LayerNorm still applied), the
// pooled output is the final hidden state at the first end token, and token weights are applied as
// z = (z - z_empty) * w + z_empty against the encoding of an empty prompt.
#pragma once
#include <vector>

#include "model/embeddings.h"
#include "model/prompt_tokens.h"
#include "model/sd15_config.h"
#include "model/weights.h"

namespace vkdream::model {

struct CLIPOutput {
  Tensor hidden;  // [1, 77 * chunks, width]
  Tensor pooled;  // [1, width]
};

class CLIPTextModel {
 public:
  static constexpr const char* kPrefix = "cond_stage_model.transformer.text_model.";
  CLIPTextModel(const SD15CLIPConfig& cfg, Weights weights) : cfg_(cfg), w_(std::move(weights)) {}

  // Hidden states of `layer` (-1 = last, -2 = the one before, ...; ComfyUI's CLIPSetLastLayer),
  // final LayerNorm applied, for a batch of token rows [B, 77] (I32). Returns [B, 77, width], and the
  // pooled output [B, width] of the last layer when `pooled` is given.
  Tensor forward(vk::Stream& s, const Tensor& ids, int layer = -1, Tensor* pooled = nullptr) const;
  // The same from input embeddings x [B, L, width] (token embedding + position embedding already added).
  Tensor forward_embeds(vk::Stream& s, const Tensor& x, int layer = -1, Tensor* pooled = nullptr) const;

  // ComfyUI's encode_token_weights for one prompt's chunks (tokenize_with_weights output). Embedding
  // tokens (id -1) take their vectors from `embeddings` (process_tokens: the vector replaces the token
  // embedding, position embedding added as usual; a vector of the wrong width is dropped and the chunk
  // padded at the end); without a library they throw.
  CLIPOutput encode(vk::Stream& s, const std::vector<TokenChunk>& chunks, int layer = -1,
                    const EmbeddingLibrary* embeddings = nullptr) const;

  const SD15CLIPConfig& config() const { return cfg_; }
  Weights& weights() { return w_; }
  const Weights& weights() const { return w_; }

 private:
  SD15CLIPConfig cfg_;
  Weights w_;
};

}  // namespace vkdream::model
