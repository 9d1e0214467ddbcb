// Textual inversion: the file-backed EmbeddingLibrary (ComfyUI's load_embed search and tensor choice) and
// CLIPTextModel::encode with embedding tokens, against the CPU-built input embeddings of process_tokens and
// against prompts whose token rows the embedding copies.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "model/clip_tokenizer.h"
#include "model/embeddings.h"
#include "model/tiny_models.h"
#include "ops/layout.h"

namespace vkdream::test {
namespace {
namespace fs = std::filesystem;

const model::CLIPTokenizer& tokenizer() {
  static model::CLIPTokenizer t = model::CLIPTokenizer::load(VKDREAM_ASSETS_DIR "/clip");
  return t;
}

void write_file(const fs::path& p, const std::vector<uint8_t>& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::vector<float> ramp(size_t n, float a, float b) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = a + b * float(std::sin(0.37 * double(i) + a));
  return v;
}

// A folder of embeddings for the tiny model (width 64): the A1111 layout, a single vector in a subfolder
// under a string_to_param name in f16, a multi-tensor file with clip_l, a wrong width, and a pickle.
struct EmbeddingDir {
  fs::path root;
  std::vector<float> token_rows;  // token embedding rows of "cat", "dog" (filled by the encode tests)
  EmbeddingDir() {
    root = fs::temp_directory_path() / ("vkdream-embeddings-" + std::to_string(::getpid()));
    fs::remove_all(root);
    write_file(root / "emb_a.safetensors", safetensors_image({{"emb_params", {2, 64}, ramp(128, 0.1f, 0.5f)}}));
    write_file(root / "sub" / "emb_b.safetensors",
               safetensors_image({{"string_to_param.*", {64}, ramp(64, -0.2f, 0.25f), true}}));
    write_file(root / "multi.safetensors", safetensors_image({{"aaa", {1, 64}, ramp(64, 1.0f, 1.0f)},
                                                               {"clip_l", {3, 64}, ramp(192, 0.3f, 0.1f)},
                                                               {"clip_g", {1, 32}, ramp(32, 0.0f, 1.0f)}}));
    write_file(root / "wide.safetensors", safetensors_image({{"emb_params", {1, 32}, ramp(32, 0.0f, 1.0f)}}));
    write_file(root / "pickled.pt", {0x80, 0x02});
  }
  ~EmbeddingDir() { fs::remove_all(root); }
};

TEST(EmbeddingLibrary, FindsAndReadsFilesAsLoadEmbed) {
  EmbeddingDir dir;
  model::EmbeddingLibrary lib({dir.root.string()});
  auto a = lib.resolve("emb_a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->second, 2);
  EXPECT_EQ(lib.at(a->first).values, ramp(128, 0.1f, 0.5f));
  auto a2 = lib.resolve("emb_a.safetensors");  // the name with its extension is a file too
  ASSERT_TRUE(a2);
  EXPECT_EQ(a2->second, 2);
  auto b = lib.resolve("emb_b");  // found in a sub-folder (expand_directory_list)
  ASSERT_TRUE(b);
  EXPECT_EQ(b->second, 1);
  const auto& eb = lib.at(b->first);
  EXPECT_EQ(eb.width, 64);
  for (size_t i = 0; i < 64; ++i) EXPECT_EQ(eb.values[i], half_to_float(float_to_half(ramp(64, -0.2f, 0.25f)[i])));
  auto m = lib.resolve("multi");  // clip_l wins over the first tensor
  ASSERT_TRUE(m);
  EXPECT_EQ(m->second, 3);
  EXPECT_EQ(lib.at(m->first).values, ramp(192, 0.3f, 0.1f));
  EXPECT_FALSE(lib.resolve("missing"));
  // A name that normalises back inside the folder is found (os.path.abspath), one leading outside is refused.
  EXPECT_TRUE(lib.resolve("../" + dir.root.filename().string() + "/emb_a"));
  const std::string outside = dir.root.filename().string() + "-outside";
  write_file(dir.root.parent_path() / (outside + ".safetensors"), safetensors_image({{"emb_params", {1, 64}, ramp(64, 0, 1)}}));
  EXPECT_FALSE(lib.resolve("../" + outside));
  fs::remove(dir.root.parent_path() / (outside + ".safetensors"));
  EXPECT_FALSE(lib.resolve("pickled"));  // found, not readable: ignored with a warning
  ASSERT_EQ(lib.warnings().size(), 1u);
  EXPECT_NE(lib.warnings()[0].find("pickled"), std::string::npos);
  // Through the tokenizer: the embedding's vectors become id -1 tokens.
  auto provider = lib.provider();
  auto chunks = model::tokenize_with_weights(tokenizer(), "a embedding:emb_a cat", &provider);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0][2].id, -1);
  EXPECT_EQ(chunks[0][3].id, -1);
  EXPECT_EQ(chunks[0][3].embedding_row, 1);
}

// encode's input embeddings built on the CPU: token row (or embedding vector) + position row, per position.
std::vector<float> cpu_input_embeds(const std::vector<model::TokenChunk>& chunks, const model::EmbeddingLibrary& lib,
                                    const std::vector<float>& table, const std::vector<float>& pos, int64_t width) {
  std::vector<float> x;
  for (const auto& c : chunks) {
    std::vector<const float*> rows;
    int64_t dropped = 0;
    for (const auto& t : c) {
      if (t.id >= 0) {
        rows.push_back(table.data() + size_t(t.id * width));
      } else if (lib.at(t.embedding).width != width) {
        ++dropped;
      } else {
        rows.push_back(lib.at(t.embedding).values.data() + size_t(t.embedding_row * width));
      }
    }
    for (int64_t k = 0; k < dropped; ++k) rows.push_back(table.data() + size_t(model::CLIPTokenizer::kEndToken * width));
    for (size_t j = 0; j < rows.size(); ++j)
      for (int64_t d = 0; d < width; ++d) x.push_back(float(double(rows[j][d]) + double(pos[j * size_t(width) + size_t(d)])));
  }
  return x;
}

double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / (1 + std::abs(double(b[i]))));
  return a.size() == b.size() ? worst : INFINITY;
}

class EmbeddingEncode : public ::testing::Test {
 protected:
  EmbeddingDir dir;
};

TEST_F(EmbeddingEncode, VectorsReplaceTokenEmbeddings) {
  auto& s = model_stream();
  const auto& clip = *tiny_models(DType::F32).clip;
  const int64_t width = clip.config().hidden_size;
  auto table = to_host(s, clip.weights().get("embeddings.token_embedding.weight"));
  auto pos = to_host(s, clip.weights().get("embeddings.position_embedding.weight"));
  model::EmbeddingLibrary lib({dir.root.string()});
  auto provider = lib.provider();
  for (const char* prompt : {"a embedding:emb_a cat, embedding:multi", "embedding:emb_b", "a embedding:wide cat"}) {
    auto chunks = model::tokenize_with_weights(tokenizer(), prompt, &provider);
    auto got = clip.encode(s, chunks, -1, &lib);
    // Reference: the CPU-built input embeddings through the same transformer.
    auto x = cpu_input_embeds(chunks, lib, table, pos, width);
    Tensor pooled;
    Tensor xt = from_host(s, {int64_t(chunks.size()), int64_t(chunks[0].size()), width}, DType::F32, x);
    Tensor want = clip.forward_embeds(s, xt, -1, &pooled);
    double err = max_rel_diff(to_host(s, got.hidden), to_host(s, want));
    std::printf("[embeddings] '%s': max rel diff vs CPU-built input %.3g\n", prompt, err);
    EXPECT_LE(err, 1e-6) << prompt;
  }
}

TEST_F(EmbeddingEncode, EmbeddingOfTokenRowsEqualsThoseTokens) {
  auto& s = model_stream();
  const auto& clip = *tiny_models(DType::F32).clip;
  const int64_t width = clip.config().hidden_size;
  auto table = to_host(s, clip.weights().get("embeddings.token_embedding.weight"));
  auto ids = tokenizer().encode("cat dog");
  ASSERT_EQ(ids.size(), 2u);
  std::vector<float> rows;
  for (int32_t id : ids) rows.insert(rows.end(), table.begin() + id * width, table.begin() + (id + 1) * width);
  write_file(dir.root / "pets.safetensors", safetensors_image({{"emb_params", {2, width}, rows}}));
  model::EmbeddingLibrary lib({dir.root.string()});
  auto provider = lib.provider();
  struct Pair {
    const char* with;
    const char* plain;
    int layer;
  };
  // Pooled output (first end token), layer -2, and weights that touch the embedding's positions.
  for (const Pair& p : {Pair{"a embedding:pets on a mat", "a cat dog on a mat", -1},
                        Pair{"a embedding:pets on a mat", "a cat dog on a mat", -2},
                        Pair{"a (embedding:pets:1.3) on a mat", "a (cat dog:1.3) on a mat", -1}}) {
    auto a = clip.encode(s, model::tokenize_with_weights(tokenizer(), p.with, &provider), p.layer, &lib);
    auto b = clip.encode(s, model::tokenize_with_weights(tokenizer(), p.plain), p.layer);
    double eh = max_rel_diff(to_host(s, a.hidden), to_host(s, b.hidden));
    double ep = max_rel_diff(to_host(s, a.pooled), to_host(s, b.pooled));
    std::printf("[embeddings] '%s' vs '%s' layer %d: hidden %.3g pooled %.3g\n", p.with, p.plain, p.layer, eh, ep);
    EXPECT_LE(eh, 1e-6) << p.with;
    EXPECT_LE(ep, 1e-6) << p.with;
  }
}

TEST_F(EmbeddingEncode, WithoutALibraryEmbeddingTokensThrow) {
  auto& s = model_stream();
  const auto& clip = *tiny_models(DType::F32).clip;
  model::EmbeddingLibrary lib({dir.root.string()});
  auto provider = lib.provider();
  auto chunks = model::tokenize_with_weights(tokenizer(), "embedding:emb_a", &provider);
  EXPECT_THROW(clip.encode(s, chunks), std::invalid_argument);
}

}  // namespace
}  // namespace vkdream::test
