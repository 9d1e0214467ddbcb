// Textual-inversion embeddings from the `embeddings` folders, as comfy/sd1_clip.py load_embed finds and
// reads them for `embedding:name` in a prompt:
//  - the name is joined to each folder (and, as ComfyUI expands the list, every sub-folder), must stay
//    inside it, and is tried as given, then with .safetensors, .pt, .bin appended;
//  - a .safetensors file gives its `clip_l` tensor when present, else its first tensor by name (that covers
//    A1111's `emb_params`, `string_to_param.*` and single-tensor files); [n, width] is n vectors, [width] one;
//  - .pt/.bin (pickle) files are not read: like a file ComfyUI fails to load, the embedding is ignored.
// Vectors are kept as f32 on the host; CLIPTextModel::encode uploads the ones a prompt uses.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "model/prompt_tokens.h"

namespace vkdream::model {

struct Embedding {
  std::string name;     // as the prompt named it
  std::string path;     // the file it came from
  int64_t rows = 0;     // vectors
  int64_t width = 0;    // values per vector
  std::vector<float> values;  // rows * width
};

class EmbeddingLibrary {
 public:
  // `embed_key` is the tensor a multi-model file keeps for this text model (SD1.x: clip_l).
  explicit EmbeddingLibrary(std::vector<std::string> directories, std::string embed_key = "clip_l");

  // tokenize_with_weights' callback: loads `name` on first use; (index, rows) or nullopt when not found.
  EmbeddingProvider provider();
  std::optional<std::pair<int, int>> resolve(const std::string& name);

  // The embedding behind an index handed out by resolve (valid as long as the library lives).
  const Embedding& at(int index) const;
  // Messages for files found but not loaded (unsupported format, bad tensor), in order.
  std::vector<std::string> warnings() const;

 private:
  std::optional<std::string> find_file(const std::string& name) const;
  std::vector<std::string> dirs_;
  std::string embed_key_;
  mutable std::mutex mu_;
  std::map<std::string, int> by_name_;  // name -> index of a loaded embedding
  std::vector<std::unique_ptr<Embedding>> items_;
  std::vector<std::string> warnings_;
};

// Reads one embedding file (.safetensors) as load_embed would; throws SafetensorsError / std::runtime_error.
Embedding load_embedding_file(const std::string& path, const std::string& embed_key = "clip_l");

}  // namespace vkdream::model
