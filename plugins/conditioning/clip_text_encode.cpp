#include "conditioning.h"
#include "model/prompt_tokens.h"
#include "pack_util.h"

namespace vkdream::packs::conditioning {

void clip_text_encode(vkd::Context& c) {
  const payload::Clip& clip = clip_in(c, "clip");
  std::string text = c.get_string("text");
  model::EmbeddingProvider provider;
  if (clip.embeddings) provider = clip.embeddings->provider();
  auto chunks = model::tokenize_with_weights(core().clip_tokenizer(), text, clip.embeddings ? &provider : nullptr);
  if (clip.embeddings)
    for (const auto& w : clip.embeddings->warnings()) vkd::log(VKD_LOG_WARNING, w, "CLIPTextEncode");
  NodeStream ns;
  model::CLIPOutput out = clip.model->encode(ns, chunks, clip.layer, clip.embeddings.get());
  ns.s.submit();
  sampling::CondEntry e;
  e.cross_attn = out.hidden;
  e.pooled = out.pooled;
  set_conditioning(c, 0, payload::Conditioning{{std::move(e)}});
}

void clip_set_last_layer(vkd::Context& c) {
  payload::Clip clip = clip_in(c, "clip");
  clip.layer = int(c.get_int("stop_at_clip_layer"));
  uint64_t bytes = 0;  // shares the encoder with its input
  set_clip(c, 0, std::move(clip), bytes);
}

}  // namespace vkdream::packs::conditioning
