// The CLIP tokenizer and ComfyUI's prompt weighting against the golden tokenizations that
// ComfyUI's own code produced (tests/fixtures/golden/index.json, case "tokenizer").
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <string>
#include <vector>

#include "model/clip_tokenizer.h"
#include "model/prompt_tokens.h"

namespace vkdream::model {
namespace {

const CLIPTokenizer& tokenizer() {
  static CLIPTokenizer t = CLIPTokenizer::load(VKDREAM_ASSETS_DIR "/clip");
  return t;
}

struct GoldenPrompt {
  std::string prompt;
  std::vector<std::vector<std::pair<int32_t, double>>> chunks;
  std::vector<std::vector<int>> word_ids;
  std::vector<int32_t> plain_bpe_ids;
};

std::vector<GoldenPrompt> golden_prompts() {
  static simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(VKDREAM_FIXTURES_DIR "/golden/index.json");
  std::vector<GoldenPrompt> out;
  for (auto c : root["cases"].get_array()) {
    if (std::string_view(c["group"].get_string()) != "tokenizer") continue;
    for (auto p : c["prompts"].get_array()) {
      GoldenPrompt g;
      g.prompt = std::string(std::string_view(p["prompt"].get_string()));
      for (auto ch : p["chunks"].get_array()) {
        std::vector<std::pair<int32_t, double>> chunk;
        for (auto tw : ch.get_array()) {
          auto a = tw.get_array();
          chunk.emplace_back(int32_t(int64_t(a.at(0))), double(a.at(1)));
        }
        g.chunks.push_back(chunk);
      }
      for (auto ch : p["word_ids"].get_array()) {
        std::vector<int> ids;
        for (auto w : ch.get_array()) ids.push_back(int(int64_t(w)));
        g.word_ids.push_back(ids);
      }
      for (auto id : p["plain_bpe_ids"].get_array()) g.plain_bpe_ids.push_back(int32_t(int64_t(id)));
      out.push_back(g);
    }
  }
  return out;
}

class TokenizerGolden : public ::testing::TestWithParam<GoldenPrompt> {};

TEST_P(TokenizerGolden, PlainBPEMatches) {
  const auto& g = GetParam();
  std::vector<int32_t> ids{CLIPTokenizer::kStartToken};
  for (int32_t id : tokenizer().encode(g.prompt)) ids.push_back(id);
  ids.push_back(CLIPTokenizer::kEndToken);
  EXPECT_EQ(ids, g.plain_bpe_ids) << "prompt: " << g.prompt;
}

TEST_P(TokenizerGolden, WeightedChunksMatch) {
  const auto& g = GetParam();
  auto chunks = tokenize_with_weights(tokenizer(), g.prompt);
  ASSERT_EQ(chunks.size(), g.chunks.size()) << "prompt: " << g.prompt;
  for (size_t c = 0; c < chunks.size(); ++c) {
    ASSERT_EQ(chunks[c].size(), g.chunks[c].size());
    for (size_t i = 0; i < chunks[c].size(); ++i) {
      EXPECT_EQ(chunks[c][i].id, g.chunks[c][i].first) << "prompt: " << g.prompt << " chunk " << c << " token " << i;
      EXPECT_EQ(chunks[c][i].weight, g.chunks[c][i].second)
          << "prompt: " << g.prompt << " chunk " << c << " token " << i;
      EXPECT_EQ(chunks[c][i].word_id, g.word_ids[c][i]) << "prompt: " << g.prompt << " chunk " << c << " token " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ComfyUI, TokenizerGolden, ::testing::ValuesIn(golden_prompts()),
                         [](const auto& info) { return "prompt" + std::to_string(info.index); });

TEST(PromptWeights, PythonFloatRules) {
  double v;
  EXPECT_TRUE(parse_python_float(" 1.3 ", v));
  EXPECT_EQ(v, 1.3);
  EXPECT_TRUE(parse_python_float("1_0", v));
  EXPECT_EQ(v, 10.0);
  EXPECT_TRUE(parse_python_float(".5", v));
  EXPECT_TRUE(parse_python_float("5.", v));
  EXPECT_TRUE(parse_python_float("-1e-2", v));
  EXPECT_EQ(v, -0.01);
  EXPECT_TRUE(parse_python_float("INF", v));
  EXPECT_TRUE(std::isinf(v));
  EXPECT_FALSE(parse_python_float("1.3.5", v));
  EXPECT_FALSE(parse_python_float("1__0", v));
  EXPECT_FALSE(parse_python_float("_1", v));
  EXPECT_FALSE(parse_python_float("", v));
  EXPECT_FALSE(parse_python_float("e5", v));
}

TEST(PromptWeights, EmbeddingsComeFromTheProvider) {
  EmbeddingProvider provider = [](const std::string& name) -> std::optional<std::pair<int, int>> {
    if (name == "style") return std::make_pair(7, 3);
    return std::nullopt;
  };
  auto chunks = tokenize_with_weights(tokenizer(), "a embedding:style, cat", &provider);
  ASSERT_EQ(chunks.size(), 1u);
  const auto& c = chunks[0];
  // start, "a", 3 vectors of embedding 7, then the leftover ", cat"
  EXPECT_EQ(c[1].id, tokenizer().id_of("a</w>"));
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(c[2 + r].id, -1);
    EXPECT_EQ(c[2 + r].embedding, 7);
    EXPECT_EQ(c[2 + r].embedding_row, r);
  }
  EXPECT_EQ(c[5].id, tokenizer().id_of(",</w>"));
  EXPECT_EQ(c[6].id, tokenizer().id_of("cat</w>"));
  // An unknown embedding is skipped and its trailing text kept.
  auto missing = tokenize_with_weights(tokenizer(), "a embedding:nope dog", &provider);
  EXPECT_EQ(missing[0][2].id, tokenizer().id_of("dog</w>"));
}

TEST(CLIPTokenizer, MissingFilesAreClearErrors) {
  try {
    CLIPTokenizer::load("/nonexistent-dir");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/vocab.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vkdream::model
