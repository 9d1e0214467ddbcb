// ComfyUI's prompt weighting and chunking (SDTokenizer.tokenize_with_weights): `(x)` x1.1, nesting
// multiplies, `(x:w)` sets the weight, `\(` `\)` are literal, `[x]` is plain text; each weighted
// segment is tokenised whole and packed into chunks of 77 (start, 75 tokens, end, end-padding),
// a segment of 8 or more tokens may be split across chunks, a shorter one moves whole to the next.
// `embedding:name` inserts textual-inversion vectors from the provider.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/clip_tokenizer.h"

namespace vkdream::model {

struct WeightedToken {
  int32_t id = 0;         // CLIP token id, or -1 for an embedding vector
  double weight = 1.0;    // Python float semantics (double)
  int word_id = 0;        // 1-based segment number; 0 for start/end/pad
  int embedding = -1;     // provider's embedding index when id == -1
  int embedding_row = 0;  // which vector of that embedding
};
using TokenChunk = std::vector<WeightedToken>;  // always 77 long

// Resolves `embedding:name` to (index, number of vectors), or nullopt when there is no such file.
using EmbeddingProvider = std::function<std::optional<std::pair<int, int>>(const std::string& name)>;

constexpr int kClipChunkLength = 77;

std::vector<TokenChunk> tokenize_with_weights(const CLIPTokenizer& tok, std::string_view text,
                                              const EmbeddingProvider* embeddings = nullptr);

// The weighted segments of ComfyUI's token_weights() (escapes already undone), for tests.
std::vector<std::pair<std::string, double>> parse_prompt_weights(std::string_view text);

// Python's float(str): surrounding whitespace, sign, digits with single underscores, ".5", "5.",
// exponents, inf/infinity/nan in any case. Returns false where Python raises ValueError.
bool parse_python_float(std::string_view s, double& out);

}  // namespace vkdream::model
