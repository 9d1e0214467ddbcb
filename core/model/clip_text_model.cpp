#include "model/clip_text_model.h"

#include <algorithm>
#include <stdexcept>

#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/layout.h"
#include "ops/matmul.h"
#include "ops/norm.h"

namespace vkdream::model {
namespace {
constexpr float kLayerNormEps = 1e-5f;

// encoder.layers.N: x + self_attn(layer_norm1(x)), then + mlp(layer_norm2(x)).
Tensor encoder_layer(vk::Stream& s, const WeightScope& w, const Tensor& x, int heads) {
  auto attn = w.sub("self_attn");
  Tensor h = ops::layer_norm(s, x, w["layer_norm1.weight"], w["layer_norm1.bias"], kLayerNormEps);  // [B,L,D]
  Tensor q = ops::linear(s, h, attn["q_proj.weight"], &attn["q_proj.bias"]);                       // [B,L,D]
  Tensor k = ops::linear(s, h, attn["k_proj.weight"], &attn["k_proj.bias"]);
  Tensor v = ops::linear(s, h, attn["v_proj.weight"], &attn["v_proj.bias"]);
  Tensor a = ops::attention(s, q, k, v, heads, /*causal=*/true);                                    // [B,L,D]
  Tensor x1 = ops::linear(s, a, attn["out_proj.weight"], &attn["out_proj.bias"], &x);              // + residual
  auto mlp = w.sub("mlp");
  h = ops::layer_norm(s, x1, w["layer_norm2.weight"], w["layer_norm2.bias"], kLayerNormEps);
  h = ops::linear(s, h, mlp["fc1.weight"], &mlp["fc1.bias"]);  // [B,L,4D]
  h = ops::quick_gelu(s, h);
  return ops::linear(s, h, mlp["fc2.weight"], &mlp["fc2.bias"], &x1);  // [B,L,D] + residual
}
}  // namespace

Tensor CLIPTextModel::forward(vk::Stream& s, const Tensor& ids, int layer, Tensor* pooled) const {
  if (ids.rank() != 2 || ids.dtype() != DType::I32)
    throw std::invalid_argument("CLIP input must be I32 token ids [B, L], got " + ids.str());
  WeightScope root(w_, "");
  Tensor x = ops::embedding(s, ids, root["embeddings.token_embedding.weight"],
                            &root["embeddings.position_embedding.weight"]);  // [B,L,D]
  return forward_embeds(s, x, layer, pooled);
}

Tensor CLIPTextModel::forward_embeds(vk::Stream& s, const Tensor& x_in, int layer, Tensor* pooled) const {
  int n = cfg_.num_layers;
  int stop = layer < 0 ? n + layer : layer;  // index of the layer whose output is wanted
  if (stop < 0 || stop >= n)
    throw std::invalid_argument("CLIP layer " + std::to_string(layer) + " is outside 1.." + std::to_string(n));
  WeightScope root(w_, "");
  Tensor x = x_in;
  Tensor wanted;
  // The pooled output needs the last layer; otherwise stop at the requested one.
  int last = pooled ? n - 1 : stop;
  for (int i = 0; i <= last; ++i) {
    x = encoder_layer(s, root.sub("encoder.layers." + std::to_string(i)), x, cfg_.num_heads);
    if (i == stop) wanted = x;
  }
  const Tensor& g = root["final_layer_norm.weight"];
  const Tensor& b = root["final_layer_norm.bias"];
  Tensor out = ops::layer_norm(s, wanted, g, b, kLayerNormEps);
  if (pooled) *pooled = stop == n - 1 ? out : ops::layer_norm(s, x, g, b, kLayerNormEps);
  return out;
}

// process_tokens for one chunk: ids as the model sees them, with the embedding vector (or null) per position.
struct Slot {
  int32_t id = 0;
  const float* vec = nullptr;
};

CLIPOutput CLIPTextModel::encode(vk::Stream& s, const std::vector<TokenChunk>& chunks, int layer,
                                 const EmbeddingLibrary* embeddings) const {
  if (chunks.empty()) throw std::invalid_argument("CLIP encode: no token chunks");
  const int64_t len = int64_t(chunks[0].size());
  const int64_t width = cfg_.hidden_size;
  bool weighted = false, any_vec = false;
  std::vector<std::vector<Slot>> seqs;
  for (auto& c : chunks) {
    if (int64_t(c.size()) != len) throw std::invalid_argument("CLIP encode: chunks of different lengths");
    std::vector<Slot> seq;
    int64_t dropped = 0;
    for (auto& t : c) {
      weighted = weighted || t.weight != 1.0;
      if (t.id >= 0) {
        seq.push_back({t.id, nullptr});
        continue;
      }
      if (!embeddings) throw std::invalid_argument("CLIP encode: embedding token without an embedding library");
      const Embedding& e = embeddings->at(t.embedding);
      if (t.embedding_row < 0 || t.embedding_row >= e.rows)
        throw std::invalid_argument("CLIP encode: embedding '" + e.name + "' has no vector " +
                                    std::to_string(t.embedding_row));
      if (e.width != width) {  // ComfyUI: "shape mismatch when trying to apply embedding, embedding will be ignored"
        ++dropped;
        continue;
      }
      seq.push_back({0, e.values.data() + size_t(t.embedding_row * width)});
      any_vec = true;
    }
    for (int64_t k = 0; k < dropped; ++k) seq.push_back({CLIPTokenizer::kEndToken, nullptr});  // pad_extra
    seqs.push_back(std::move(seq));
  }
  std::vector<int32_t> ids;
  for (auto& seq : seqs)
    for (auto& sl : seq) ids.push_back(sl.id);
  int64_t sections = int64_t(chunks.size());
  // With weights, the empty prompt (start, end, then end-padding) is encoded in the same batch.
  if (weighted) {
    ids.push_back(CLIPTokenizer::kStartToken);
    for (int64_t j = 1; j < len; ++j) ids.push_back(CLIPTokenizer::kEndToken);
  }
  int64_t batch = sections + (weighted ? 1 : 0);
  Tensor id_tensor = from_host_i32(s, {batch, len}, ids);
  Tensor pooled_all;
  Tensor z;
  if (!any_vec) {
    z = forward(s, id_tensor, layer, &pooled_all);  // [batch, len, D]
  } else {
    // The embedding vectors replace the token embeddings at their positions: tok * keep + vectors, then
    // + position embedding, all exact where nothing is replaced.
    WeightScope root(w_, "");
    Tensor tok = ops::embedding(s, id_tensor, root["embeddings.token_embedding.weight"]);  // [batch, len, D]
    std::vector<float> keep(size_t(batch * len), 1.0f), vecs(size_t(batch * len * width), 0.0f);
    for (size_t b = 0; b < seqs.size(); ++b)
      for (size_t j = 0; j < seqs[b].size(); ++j)
        if (const float* v = seqs[b][j].vec) {
          size_t row = b * size_t(len) + j;
          keep[row] = 0.0f;
          std::copy(v, v + width, vecs.begin() + long(row * size_t(width)));
        }
    Tensor keep_t = from_host(s, {batch, len, 1}, tok.dtype(), keep);
    Tensor vec_t = from_host(s, {batch, len, width}, tok.dtype(), vecs);
    Tensor x = ops::add(s, ops::mul(s, tok, keep_t), vec_t);
    x = ops::add(s, x, root["embeddings.position_embedding.weight"].slice0(0, len));
    z = forward_embeds(s, x, layer, &pooled_all);
  }
  const int64_t d = z.dim(2);

  // Pooled: the first section's hidden state at its first end token.
  int64_t eos = 0;
  for (int64_t j = 0; j < len; ++j)
    if (!seqs[0][size_t(j)].vec && seqs[0][size_t(j)].id == CLIPTokenizer::kEndToken) {
      eos = j;
      break;
    }
  Tensor pooled_rows = pooled_all.reshape({batch * len, d});
  CLIPOutput out;
  out.pooled = ops::copy(s, pooled_rows.slice0(eos, 1));  // [1, D]

  Tensor sections_z = z.slice0(0, sections);
  if (weighted) {
    // z = z * w + z_empty * (1 - w), per token.
    std::vector<float> w, one_minus;
    for (auto& c : chunks)
      for (auto& t : c) {
        w.push_back(float(t.weight));
        one_minus.push_back(float(1.0 - t.weight));
      }
    Tensor wt = from_host(s, {sections, len, 1}, z.dtype(), w);
    Tensor wm = from_host(s, {sections, len, 1}, z.dtype(), one_minus);
    Tensor empty = z.slice0(sections, 1);  // [1, len, D]
    sections_z = ops::add(s, ops::mul(s, sections_z, wt), ops::mul(s, empty, wm));
  }
  out.hidden = ops::copy(s, sections_z).reshape({1, sections * len, d});  // chunks concatenated on tokens
  return out;
}

}  // namespace vkdream::model
