// CLIP's byte-level BPE tokenizer, as Hugging Face's CLIPTokenizer runs it without ftfy (what a
// stock ComfyUI install uses): control characters dropped, whitespace normalised, CJK ideographs
// spaced, NFC, lower-cased, split by CLIP's pattern, byte-encoded, then BPE with the first 48894
// merges. Unicode classes come from ICU.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vkdream::model {

class CLIPTokenizer {
 public:
  static constexpr int32_t kStartToken = 49406;  // <|startoftext|>
  static constexpr int32_t kEndToken = 49407;    // <|endoftext|>, also the pad token

  // Loads vocab.json and merges.txt from `dir`. Throws std::runtime_error naming the file.
  static CLIPTokenizer load(const std::string& dir);

  // The ids of `text` without start/end tokens.
  std::vector<int32_t> encode(std::string_view text) const;
  // The pre-tokenised words (after normalisation and the split pattern), for tests.
  std::vector<std::string> split_words(std::string_view text) const;
  size_t vocab_size() const { return vocab_.size(); }
  // Id of a vocabulary entry (e.g. "cat</w>"), or -1.
  int32_t id_of(const std::string& token) const;

 private:
  std::vector<std::string> bpe(const std::string& word) const;
  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<std::string, int32_t> merge_rank_;  // "a b" -> rank
  std::string byte_to_unicode_[256];                     // UTF-8 of the mapped char for each byte
};

}  // namespace vkdream::model
