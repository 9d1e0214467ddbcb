// Prompt text as CLIPTextEncode receives it: ComfyUI's weighting syntax, `embedding:` names, then the CLIP
// tokenizer and chunking. Any text is valid input: nothing may throw.
#include <cstdint>
#include <string_view>

#include "model/clip_tokenizer.h"
#include "model/prompt_tokens.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkdream::model;
  static const CLIPTokenizer tok = CLIPTokenizer::load(VKDREAM_SOURCE_DIR "/assets/clip");
  static const EmbeddingProvider embeddings = [](const std::string& name) -> std::optional<std::pair<int, int>> {
    if (name.empty() || name.size() > 8) return std::nullopt;
    return std::make_pair(int(name[0] & 3), 1 + int(name.size() % 3));
  };
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto chunks = tokenize_with_weights(tok, text, &embeddings);
  for (const TokenChunk& c : chunks)
    if (c.size() != size_t(kClipChunkLength)) __builtin_trap();
  double v;
  (void)parse_python_float(text, v);
  return 0;
}
