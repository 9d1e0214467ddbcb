#include "model/prompt_tokens.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace vkdream::model {
namespace {

// escape_important / unescape_important: "\(" and "\)" survive the parenthesis parser as
// private markers.
std::string escape_important(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == ')' || s[i + 1] == '(')) {
      out.push_back('\0');
      out.push_back(s[i + 1] == ')' ? '\1' : '\2');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string unescape_important(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\0' && i + 1 < s.size() && (s[i + 1] == '\1' || s[i + 1] == '\2')) {
      out.push_back(s[i + 1] == '\1' ? ')' : '(');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> parse_parentheses(const std::string& s) {
  std::vector<std::string> result;
  std::string current;
  int nesting = 0;
  for (char c : s) {
    if (c == '(') {
      if (nesting == 0) {
        if (!current.empty()) result.push_back(current);
        current = "(";
      } else {
        current.push_back(c);
      }
      nesting++;
    } else if (c == ')') {
      nesting--;
      if (nesting == 0) {
        result.push_back(current + ")");
        current.clear();
      } else {
        current.push_back(c);
      }
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) result.push_back(current);
  return result;
}

void token_weights(const std::string& s, double current, std::vector<std::pair<std::string, double>>& out) {
  for (auto x : parse_parentheses(s)) {
    double weight = current;
    if (x.size() >= 2 && x.front() == '(' && x.back() == ')') {
      x = x.substr(1, x.size() - 2);
      size_t colon = x.rfind(':');
      weight *= 1.1;
      if (colon != std::string::npos && colon > 0) {
        double w;
        if (parse_python_float(std::string_view(x).substr(colon + 1), w)) {
          weight = w;
          x = x.substr(0, colon);
        }
      }
      token_weights(x, weight, out);
    } else {
      out.emplace_back(x, current);
    }
  }
}

bool py_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Splits like re.split(' embedding:|\nembedding:', s) and re-attaches the identifier.
std::vector<std::string> split_embeddings(const std::string& s) {
  static const std::string kId = "embedding:";
  std::vector<std::string> parts;
  size_t start = 0, i = 0;
  bool first = true;
  while (i < s.size()) {
    if ((s[i] == ' ' || s[i] == '\n') && s.compare(i + 1, kId.size(), kId) == 0) {
      parts.push_back((first ? "" : kId) + s.substr(start, i - start));
      first = false;
      i += 1 + kId.size();
      start = i;
    } else {
      ++i;
    }
  }
  parts.push_back((first ? "" : kId) + s.substr(start));
  std::vector<std::string> out;
  for (auto& p : parts)
    if (!p.empty()) out.push_back(p);
  return out;
}

std::vector<std::string> py_split_whitespace(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && py_space(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !py_space(s[j])) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

bool parse_python_float(std::string_view s, double& out) {
  size_t a = 0, b = s.size();
  while (a < b && py_space(s[a])) ++a;
  while (b > a && py_space(s[b - 1])) --b;
  std::string t(s.substr(a, b - a));
  if (t.empty()) return false;
  std::string lower;
  for (char c : t) lower.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  std::string body = lower;
  double sign = 1.0;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    sign = body[0] == '-' ? -1.0 : 1.0;
    body = body.substr(1);
  }
  if (body == "inf" || body == "infinity") {
    out = sign * std::numeric_limits<double>::infinity();
    return true;
  }
  if (body == "nan") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  // digits ("_" only between digits), optional ".", digits, optional exponent.
  std::string clean;
  size_t i = 0;
  auto digits = [&](bool& any) {
    any = false;
    while (i < body.size()) {
      if (std::isdigit(static_cast<unsigned char>(body[i]))) {
        clean.push_back(body[i++]);
        any = true;
      } else if (body[i] == '_' && any && i + 1 < body.size() &&
                 std::isdigit(static_cast<unsigned char>(body[i + 1]))) {
        ++i;
      } else {
        break;
      }
    }
  };
  bool int_digits, frac_digits = false, exp_digits;
  digits(int_digits);
  if (i < body.size() && body[i] == '.') {
    clean.push_back('.');
    ++i;
    digits(frac_digits);
  }
  if (!int_digits && !frac_digits) return false;
  if (i < body.size() && body[i] == 'e') {
    clean.push_back('e');
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) clean.push_back(body[i++]);
    digits(exp_digits);
    if (!exp_digits) return false;
  }
  if (i != body.size()) return false;
  out = sign * std::strtod(clean.c_str(), nullptr);
  return true;
}

std::vector<std::pair<std::string, double>> parse_prompt_weights(std::string_view text) {
  std::vector<std::pair<std::string, double>> raw, out;
  token_weights(escape_important(text), 1.0, raw);
  for (auto& [s, w] : raw) out.emplace_back(unescape_important(s), w);
  return out;
}

std::vector<TokenChunk> tokenize_with_weights(const CLIPTokenizer& tok, std::string_view text,
                                              const EmbeddingProvider* embeddings) {
  static const std::string kId = "embedding:";
  // Token groups: one per weighted segment (or embedding), each a list of tokens.
  std::vector<std::vector<WeightedToken>> groups;
  for (auto& [segment, weight] : parse_prompt_weights(text)) {
    for (std::string word : split_embeddings(segment)) {
      if (word.rfind(kId, 0) == 0 && embeddings) {
        std::string name = word.substr(kId.size());
        while (!name.empty() && name.front() == '\n') name.erase(name.begin());
        while (!name.empty() && name.back() == '\n') name.pop_back();
        // _try_get_embedding: the first whitespace-separated word names it, the rest is leftover text.
        auto parts = py_split_whitespace(name);
        std::string first = parts.empty() ? "" : parts[0], leftover;
        for (size_t i = 1; i < parts.size(); ++i) leftover += (i > 1 ? " " : "") + parts[i];
        auto found = (*embeddings)(first);
        if (!found) {
          std::string stripped = first;
          while (!stripped.empty() && stripped.front() == ',') stripped.erase(stripped.begin());
          while (!stripped.empty() && stripped.back() == ',') stripped.pop_back();
          if (stripped.size() < first.size()) {
            found = (*embeddings)(stripped);
            // ComfyUI hands back the characters after the stripped name's length, then the rest.
            leftover = first.substr(stripped.size()) + " " + leftover;
          }
        }
        if (found) {
          std::vector<WeightedToken> g;
          for (int r = 0; r < found->second; ++r) g.push_back({-1, weight, 0, found->first, r});
          groups.push_back(std::move(g));
        }
        if (leftover.empty()) continue;
        word = leftover;
      }
      std::vector<WeightedToken> g;
      for (int32_t id : tok.encode(word)) g.push_back({id, weight, 0, -1, 0});
      groups.push_back(std::move(g));
    }
  }

  const WeightedToken start{CLIPTokenizer::kStartToken, 1.0, 0, -1, 0};
  const WeightedToken end{CLIPTokenizer::kEndToken, 1.0, 0, -1, 0};
  const size_t max_len = kClipChunkLength, max_word = 8;
  std::vector<TokenChunk> chunks;
  TokenChunk batch{start};
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    auto group = groups[gi];
    bool large = group.size() >= max_word;
    while (!group.empty()) {
      if (group.size() + batch.size() > max_len - 1) {
        size_t remaining = max_len - batch.size() - 1;
        if (large) {
          for (size_t k = 0; k < remaining; ++k) {
            group[k].word_id = int(gi + 1);
            batch.push_back(group[k]);
          }
          batch.push_back(end);
          group.erase(group.begin(), group.begin() + long(remaining));
        } else {
          batch.push_back(end);
          batch.insert(batch.end(), remaining, end);
        }
        chunks.push_back(std::move(batch));
        batch = TokenChunk{start};
      } else {
        for (auto& t : group) {
          t.word_id = int(gi + 1);
          batch.push_back(t);
        }
        group.clear();
      }
    }
  }
  batch.push_back(end);
  if (batch.size() < max_len) batch.insert(batch.end(), max_len - batch.size(), end);
  chunks.push_back(std::move(batch));
  return chunks;
}

}  // namespace vkdream::model
