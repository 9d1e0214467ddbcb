#include "model/clip_tokenizer.h"

#include <simdjson.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/locid.h>
#include <unicode/utf8.h>

#include <climits>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vkdream::model {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read CLIP tokenizer file '" + path + "'");
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

void append_utf8(std::string& out, UChar32 c) {
  char buf[4];
  int32_t n = 0;
  UBool err = false;
  U8_APPEND(reinterpret_cast<uint8_t*>(buf), n, 4, c, err);
  if (!err) out.append(buf, size_t(n));
}

std::vector<UChar32> decode_utf8(std::string_view s) {
  std::vector<UChar32> out;
  int32_t i = 0, n = int32_t(s.size());
  while (i < n) {
    UChar32 c;
    U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), i, n, c);
    out.push_back(c < 0 ? 0xFFFD : c);  // invalid bytes become U+FFFD, which cleaning drops
  }
  return out;
}

// Python's str.isspace(): category Zs or bidi class WS, B or S.
bool py_isspace(UChar32 c) {
  if (u_charType(c) == U_SPACE_SEPARATOR) return true;
  auto d = u_charDirection(c);
  return d == U_WHITE_SPACE_NEUTRAL || d == U_BLOCK_SEPARATOR || d == U_SEGMENT_SEPARATOR;
}

// BasicTokenizer._is_whitespace / _is_control.
bool bt_whitespace(UChar32 c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || u_charType(c) == U_SPACE_SEPARATOR;
}
bool bt_control(UChar32 c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  int8_t t = u_charType(c);
  return t == U_CONTROL_CHAR || t == U_FORMAT_CHAR || t == U_SURROGATE || t == U_PRIVATE_USE_CHAR ||
         t == U_UNASSIGNED;
}
// BasicTokenizer._is_chinese_char: the CJK Unified Ideographs blocks.
bool cjk(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}
bool is_letter(UChar32 c) { return (U_GET_GC_MASK(c) & U_GC_L_MASK) != 0; }
bool is_number(UChar32 c) { return (U_GET_GC_MASK(c) & U_GC_N_MASK) != 0; }
// The `regex` module's \s: the White_Space property.
bool re_space(UChar32 c) { return u_hasBinaryProperty(c, UCHAR_WHITE_SPACE); }

// BasicTokenizer(strip_accents=False, do_split_on_punc=False).tokenize(text), joined by spaces.
std::u32string normalise(std::string_view text) {
  std::u32string cleaned;
  for (UChar32 c : decode_utf8(text)) {
    if (c == 0 || c == 0xFFFD || bt_control(c)) continue;
    if (bt_whitespace(c)) {
      cleaned.push_back(U' ');
    } else if (cjk(c)) {
      cleaned.push_back(U' ');
      cleaned.push_back(char32_t(c));
      cleaned.push_back(U' ');
    } else {
      cleaned.push_back(char32_t(c));
    }
  }
  // NFC, then split on whitespace, lower-case each token (full case mapping, as str.lower()).
  icu::UnicodeString us;
  for (char32_t c : cleaned) us.append(UChar32(c));
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(err);
  if (U_SUCCESS(err)) {
    icu::UnicodeString n = nfc->normalize(us, err);
    if (U_SUCCESS(err)) us = n;
  }
  std::u32string out;
  int32_t i = 0, len = us.length();
  while (i < len) {
    while (i < len && py_isspace(us.char32At(i))) i = us.moveIndex32(i, 1);
    if (i >= len) break;
    int32_t start = i;
    while (i < len && !py_isspace(us.char32At(i))) i = us.moveIndex32(i, 1);
    icu::UnicodeString word(us, start, i - start);
    word.toLower(icu::Locale::getRoot());
    if (!out.empty()) out.push_back(U' ');
    for (int32_t k = 0; k < word.length(); k = word.moveIndex32(k, 1)) out.push_back(char32_t(word.char32At(k)));
  }
  return out;
}

bool starts_with(const std::u32string& s, size_t at, std::u32string_view p) {
  return s.compare(at, p.size(), p.data(), p.size()) == 0;
}

// CLIP's pattern: <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
std::vector<std::u32string> split_pattern(const std::u32string& s) {
  static const std::u32string_view kFixed[] = {U"<|startoftext|>", U"<|endoftext|>", U"'s", U"'t", U"'re",
                                               U"'ve", U"'m", U"'ll", U"'d"};
  std::vector<std::u32string> out;
  size_t i = 0;
  while (i < s.size()) {
    UChar32 c = UChar32(s[i]);
    bool matched = false;
    for (auto p : kFixed) {
      // IGNORECASE: the text is lower-cased already, except where lower() keeps capitals.
      if (i + p.size() <= s.size()) {
        bool eq = true;
        for (size_t k = 0; k < p.size() && eq; ++k) eq = UChar32(u_tolower(UChar32(s[i + k]))) == UChar32(p[k]);
        if (eq) {
          out.emplace_back(s.substr(i, p.size()));
          i += p.size();
          matched = true;
          break;
        }
      }
    }
    if (matched) continue;
    size_t j = i;
    if (is_letter(c)) {
      while (j < s.size() && is_letter(UChar32(s[j]))) ++j;
    } else if (is_number(c)) {
      j = i + 1;
    } else if (!re_space(c)) {
      while (j < s.size()) {
        UChar32 d = UChar32(s[j]);
        if (re_space(d) || is_letter(d) || is_number(d)) break;
        // A contraction or special token starting here ends this run (the regex tries them first).
        bool fixed = false;
        for (auto p : kFixed)
          if (j > i && starts_with(s, j, p)) fixed = true;
        if (fixed) break;
        ++j;
      }
    } else {
      ++i;  // whitespace between words
      continue;
    }
    out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

CLIPTokenizer CLIPTokenizer::load(const std::string& dir) {
  CLIPTokenizer t;
  // bytes_to_unicode(): printable Latin-1 bytes map to themselves, the rest to 256 + n.
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    t.byte_to_unicode_[b].clear();
    append_utf8(t.byte_to_unicode_[b], printable ? b : 256 + n++);
  }
  std::string vocab_path = dir + "/vocab.json";
  simdjson::dom::parser parser;
  simdjson::padded_string json(read_file(vocab_path));
  simdjson::dom::object obj;
  if (parser.parse(json).get_object().get(obj)) throw std::runtime_error("'" + vocab_path + "' is not a JSON object");
  for (auto kv : obj) {
    int64_t id;
    if (kv.value.get_int64().get(id)) throw std::runtime_error("'" + vocab_path + "' has a non-integer id");
    t.vocab_[std::string(kv.key)] = int32_t(id);
  }
  std::istringstream merges(read_file(dir + "/merges.txt"));
  std::string line;
  int rank = 0;
  std::getline(merges, line);  // "#version: 0.2"
  // CLIP uses the first 49152 - 256 - 2 merges.
  while (rank < 49152 - 256 - 2 && std::getline(merges, line)) {
    if (line.empty()) continue;
    t.merge_rank_[line] = rank++;
  }
  if (t.vocab_.size() < 49408 || rank < 48894)
    throw std::runtime_error("CLIP tokenizer files in '" + dir + "' are incomplete");
  return t;
}

int32_t CLIPTokenizer::id_of(const std::string& token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

std::vector<std::string> CLIPTokenizer::bpe(const std::string& token) const {
  // Split into UTF-8 characters; the last carries the end-of-word marker.
  std::vector<std::string> word;
  for (size_t i = 0; i < token.size();) {
    size_t len = 1;
    unsigned char c = static_cast<unsigned char>(token[i]);
    if (c >= 0xF0) len = 4;
    else if (c >= 0xE0) len = 3;
    else if (c >= 0xC0) len = 2;
    word.push_back(token.substr(i, len));
    i += len;
  }
  if (word.empty()) return {};
  word.back() += "</w>";
  while (word.size() > 1) {
    int best = INT_MAX;
    size_t at = 0;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = merge_rank_.find(word[i] + " " + word[i + 1]);
      if (it != merge_rank_.end() && it->second < best) {
        best = it->second;
        at = i;
      }
    }
    if (best == INT_MAX) break;
    // Merge every occurrence of the best pair, left to right.
    std::string a = word[at], b = word[at + 1];
    std::vector<std::string> merged;
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == a && word[i + 1] == b) {
        merged.push_back(a + b);
        i += 2;
      } else {
        merged.push_back(word[i++]);
      }
    }
    word.swap(merged);
  }
  return word;
}

std::vector<std::string> CLIPTokenizer::split_words(std::string_view text) const {
  std::vector<std::string> out;
  for (auto& w : split_pattern(normalise(text))) {
    std::string s;
    for (char32_t c : w) append_utf8(s, UChar32(c));
    out.push_back(s);
  }
  return out;
}

std::vector<int32_t> CLIPTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  for (auto& w : split_words(text)) {
    if (w == "<|startoftext|>" || w == "<|endoftext|>") {
      ids.push_back(vocab_.at(w));
      continue;
    }
    std::string mapped;
    for (unsigned char b : w) mapped += byte_to_unicode_[b];
    for (auto& piece : bpe(mapped)) {
      auto it = vocab_.find(piece);
      ids.push_back(it == vocab_.end() ? kEndToken : it->second);  // unknown -> <|endoftext|> (CLIP's unk)
    }
  }
  return ids;
}

}  // namespace vkdream::model
