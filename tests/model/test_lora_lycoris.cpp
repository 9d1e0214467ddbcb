// LyCORIS patches as ComfyUI v0.8.0 applies them (comfy/weight_adapter/{loha,lokr,lora,base}.py, comfy/lora.py):
// LoHa (plain and CP/tucker), LoKr (full, low-rank and tucker factors), DoRA on LoRA / LoCon / LoHa / LoKr on
// either axis, `.diff` / `.diff_b` / `.w_norm` / `.b_norm` full differences (also on a UNet bias by its own name)
// and `.set_weight`. Every patched tensor of a test file is compared with a double-precision CPU reference
// written from ComfyUI's formulas, for f32 and f16 weight storage and strengths 1 and 0.5; the load-time
// behaviour (which patch wins, which keys and targets are reported) is checked without the GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <random>

#include "model/lora.h"
#include "model/tiny_models.h"

namespace vkdream::test {
namespace {

using Vec = std::vector<double>;
using Dims = std::vector<int64_t>;
const std::string U = "model.diffusion_model.";
const std::string C = "cond_stage_model.transformer.text_model.";

int64_t numel(const Dims& d) {
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  return n;
}

// ---- The CPU reference, in double, from ComfyUI's formulas -------------------------------------------------

Vec mm(const Vec& a, const Vec& b, int64_t m, int64_t k, int64_t n) {
  Vec out(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t q = 0; q < k; ++q) acc += a[size_t(i * k + q)] * b[size_t(q * n + j)];
      out[size_t(i * n + j)] = acc;
    }
  return out;
}

// einsum('i j k l, j r, i p -> p r k l', t, wb, wa)
Vec tucker(const Vec& t, const Dims& ts, const Vec& wb, int64_t R, const Vec& wa, int64_t P) {
  const int64_t I = ts[0], J = ts[1], KL = ts[2] * ts[3];
  Vec out(size_t(P * R * KL), 0.0);
  for (int64_t p = 0; p < P; ++p)
    for (int64_t r = 0; r < R; ++r)
      for (int64_t kl = 0; kl < KL; ++kl) {
        double acc = 0;
        for (int64_t i = 0; i < I; ++i)
          for (int64_t j = 0; j < J; ++j)
            acc += t[size_t((i * J + j) * KL + kl)] * wb[size_t(j * R + r)] * wa[size_t(i * P + p)];
        out[size_t((p * R + r) * KL + kl)] = acc;
      }
  return out;
}

// torch.kron(a [o1, i1, 1, 1], b [o2, i2, K, L]) = [o1*o2, i1*i2, K, L] (K = L = 1 for 2-D factors).
Vec kron(const Vec& a, int64_t o1, int64_t i1, const Vec& b, int64_t o2, int64_t i2, int64_t KL) {
  Vec out(size_t(o1 * o2 * i1 * i2 * KL));
  for (int64_t x = 0; x < o1; ++x)
    for (int64_t y = 0; y < o2; ++y)
      for (int64_t c = 0; c < i1; ++c)
        for (int64_t d = 0; d < i2; ++d)
          for (int64_t kl = 0; kl < KL; ++kl)
            out[size_t(((x * o2 + y) * (i1 * i2) + c * i2 + d) * KL + kl)] =
                a[size_t(x * i1 + c)] * b[size_t((y * i2 + d) * KL + kl)];
  return out;
}

// comfy/weight_adapter/base.py weight_decompose (v0.8.0), on w of shape ws (>= 2-D here), in place.
void weight_decompose(Vec& w, const Dims& ws, Vec diff, double alpha, double strength, const Vec& dora,
                      const Dims& dora_shape) {
  const int64_t out = ws[0], in = ws[1], kk = numel(ws) / (out * in);
  const double eps = 1.1920928955078125e-07;
  Vec calc(w.size());
  for (size_t i = 0; i < w.size(); ++i) calc[i] = w[i] + diff[i] * alpha;
  if (dora_shape[0] == out) {  // output axis: the norm of the weight before the patch
    for (int64_t o = 0; o < out; ++o) {
      double ss = 0;
      for (int64_t r = 0; r < in * kk; ++r) ss += w[size_t(o * in * kk + r)] * w[size_t(o * in * kk + r)];
      const double f = dora[size_t(o)] / (std::sqrt(ss) + eps);
      for (int64_t r = 0; r < in * kk; ++r) calc[size_t(o * in * kk + r)] *= f;
    }
  } else {  // input axis: the norm of the patched weight over (out, kh, kw)
    for (int64_t c = 0; c < in; ++c) {
      double ss = 0;
      for (int64_t o = 0; o < out; ++o)
        for (int64_t k = 0; k < kk; ++k) ss += std::pow(calc[size_t((o * in + c) * kk + k)], 2);
      const double f = dora[size_t(c)] / (std::sqrt(ss) + eps);
      for (int64_t o = 0; o < out; ++o)
        for (int64_t k = 0; k < kk; ++k) calc[size_t((o * in + c) * kk + k)] *= f;
    }
  }
  for (size_t i = 0; i < w.size(); ++i) w[i] = strength == 1.0 ? calc[i] : w[i] + strength * (calc[i] - w[i]);
}

// ---- The test file ------------------------------------------------------------------------------------------

enum class Dora { kNone, kInput, kOutput };  // dora_scale [1, in, 1, ...] or [out, 1, ...]

// One module of the test file: its tensors and how the reference computes its patch.
struct Spec {
  std::string name;    // the case, for messages
  std::string x;       // the module name in the file
  std::string target;  // the patched checkpoint tensor
  Dims shape;          // the target's shape
  std::string kind;    // "loha", "loha_tucker", "lokr", "lora", "diff", "set"
  std::optional<double> alpha = std::nullopt;
  Dora dora = Dora::kNone;
};

class LycorisFile {
 public:
  struct Factor {
    const char* suffix;
    Dims shape;
  };
  LycorisFile() : rng_(1234) {}
  // Tensors x + suffix with values uniform in [lo, hi), stored f32 or f16.
  void add(const std::string& x, const std::vector<Factor>& factors, double lo = -0.5, double hi = 0.5,
           bool f16 = false) {
    std::uniform_real_distribution<double> u(lo, hi);
    for (const auto& [suffix, shape] : factors) {
      std::vector<float> v(size_t(numel(shape)));
      for (auto& e : v) e = float(u(rng_));
      tensors_.push_back({x + suffix, shape, std::move(v), f16});
    }
  }
  // The module's alpha (when it has one) and its reference recipe.
  void add_spec(Spec s) {
    if (s.alpha) tensors_.push_back({s.x + ".alpha", {}, {float(*s.alpha)}});
    specs_.push_back(std::move(s));
  }
  std::shared_ptr<model::LoraFile> open(const model::SD15Config& cfg) {
    if (image_.empty()) image_ = safetensors_image(tensors_);  // files opened earlier keep pointing into it
    return model::LoraFile::from_file(model::SafetensorsFile::from_memory(image_.data(), image_.size(), "lycoris"),
                                      cfg);
  }
  const std::vector<Spec>& specs() const { return specs_; }

 private:
  std::mt19937_64 rng_;
  std::vector<StTensor> tensors_;
  std::vector<Spec> specs_;
  std::vector<uint8_t> image_;
};

// Every kind of patch, on linear and conv weights of the UNet and the text encoder.
LycorisFile& test_file() {
  static LycorisFile f = [] {
    LycorisFile f;
    // LoHa on a linear weight [64, 256], rank 4, alpha 2.
    std::string x = "lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_ff_net_2";
    f.add(x, {{".hada_w1_a", {64, 4}}, {".hada_w1_b", {4, 256}}, {".hada_w2_a", {64, 4}}, {".hada_w2_b", {4, 256}}});
    f.add_spec({"loha_linear", x, U + "input_blocks.4.1.transformer_blocks.0.ff.net.2.weight", {64, 256}, "loha", 2.0});
    // LoHa CP/tucker on a conv [64, 32, 3, 3], rank 3, alpha 1.5.
    x = "lora_unet_down_blocks_1_resnets_0_conv1";
    f.add(x, {{".hada_w1_a", {3, 64}},
              {".hada_w1_b", {3, 32}},
              {".hada_t1", {3, 3, 3, 3}},
              {".hada_w2_a", {3, 64}},
              {".hada_w2_b", {3, 32}},
              {".hada_t2", {3, 3, 3, 3}}});
    f.add_spec({"loha_conv_tucker", x, U + "input_blocks.4.0.in_layers.2.weight", {64, 32, 3, 3}, "loha_tucker", 1.5});
    // LoHa on a conv with flattened factors, stored f16 in the file, no alpha.
    x = "lora_unet_up_blocks_3_resnets_1_conv1";
    f.add(x,
          {{".hada_w1_a", {32, 2}}, {".hada_w1_b", {2, 64 * 9}}, {".hada_w2_a", {32, 2}}, {".hada_w2_b", {2, 64 * 9}}},
          -0.5, 0.5, true);
    f.add_spec({"loha_conv", x, U + "output_blocks.10.0.in_layers.2.weight", {32, 64, 3, 3}, "loha"});
    // LoKr on a text-encoder linear [256, 64]: w1 full [16, 8], w2 = w2_a @ w2_b (rank 2), alpha 4 -> 4 / 2.
    x = "lora_te_text_model_encoder_layers_0_mlp_fc1";
    f.add(x, {{".lokr_w1", {16, 8}}, {".lokr_w2_a", {16, 2}}, {".lokr_w2_b", {2, 8}}});
    f.add_spec({"lokr_linear", x, C + "encoder.layers.0.mlp.fc1.weight", {256, 64}, "lokr", 4.0});
    // LoKr on a conv [128, 64, 3, 3]: w1 = w1_a @ w1_b [4, 8], w2 full 4-D [32, 8, 3, 3], alpha 3 -> 3 / 2.
    x = "lora_unet_down_blocks_2_resnets_0_conv1";
    f.add(x, {{".lokr_w1_a", {4, 2}}, {".lokr_w1_b", {2, 8}}, {".lokr_w2", {32, 8, 3, 3}}});
    f.add_spec({"lokr_conv", x, U + "input_blocks.7.0.in_layers.2.weight", {128, 64, 3, 3}, "lokr", 3.0});
    // LoKr with a tucker w2 on a conv [4, 32, 3, 3]: w1 [2, 4], w2 from t2 [2, 2, 3, 3], alpha 1 -> 1 / 2.
    x = "lora_unet_conv_out";
    f.add(x, {{".lokr_w1", {2, 4}}, {".lokr_w2_a", {2, 2}}, {".lokr_w2_b", {2, 8}}, {".lokr_t2", {2, 2, 3, 3}}});
    f.add_spec({"lokr_conv_tucker", x, U + "out.2.weight", {4, 32, 3, 3}, "lokr", 1.0});
    // LoKr of two full factors: the alpha is read but not used.
    x = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k";
    f.add(x, {{".lokr_w1", {4, 4}}, {".lokr_w2", {8, 16}}});
    f.add_spec({"lokr_full", x, U + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", {32, 64}, "lokr", 5.0});
    // DoRA on LoRA, input axis (LyCORIS' default dora_scale [1, in]), linear [32, 64].
    x = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v";
    f.add(x, {{".lora_up.weight", {32, 4}}, {".lora_down.weight", {4, 64}}});
    f.add(x, {{".dora_scale", {1, 64}}}, 0.5, 1.5);
    f.add_spec({"dora_lora_linear_in",
                x,
                U + "input_blocks.1.1.transformer_blocks.0.attn2.to_v.weight",
                {32, 64},
                "lora",
                2.0,
                Dora::kInput});
    // DoRA on LoRA, output axis (wd_on_output, dora_scale [out, 1, 1, 1]), 1x1 conv [128, 64, 1, 1].
    x = "lora_unet_down_blocks_2_resnets_0_conv_shortcut";
    f.add(x, {{".lora_up.weight", {128, 4, 1, 1}}, {".lora_down.weight", {4, 64, 1, 1}}});
    f.add(x, {{".dora_scale", {128, 1, 1, 1}}}, 0.5, 1.5);
    f.add_spec({"dora_lora_conv_out",
                x,
                U + "input_blocks.7.0.skip_connection.weight",
                {128, 64, 1, 1},
                "lora",
                8.0,
                Dora::kOutput});
    // DoRA on LoCon (3x3 down), input axis, conv [64, 64, 3, 3].
    x = "lora_unet_down_blocks_1_resnets_0_conv2";
    f.add(x, {{".lora_up.weight", {64, 4, 1, 1}}, {".lora_down.weight", {4, 64, 3, 3}}});
    f.add(x, {{".dora_scale", {1, 64, 1, 1}}}, 0.5, 1.5);
    f.add_spec({"dora_locon_conv_in",
                x,
                U + "input_blocks.4.0.out_layers.3.weight",
                {64, 64, 3, 3},
                "lora",
                4.0,
                Dora::kInput});
    // DoRA on LoHa, input axis, conv [32, 64, 3, 3].
    x = "lora_unet_up_blocks_3_resnets_2_conv1";
    f.add(x,
          {{".hada_w1_a", {32, 2}}, {".hada_w1_b", {2, 64 * 9}}, {".hada_w2_a", {32, 2}}, {".hada_w2_b", {2, 64 * 9}}});
    f.add(x, {{".dora_scale", {1, 64, 1, 1}}}, 0.5, 1.5);
    f.add_spec({"dora_loha_conv_in",
                x,
                U + "output_blocks.11.0.in_layers.2.weight",
                {32, 64, 3, 3},
                "loha",
                1.0,
                Dora::kInput});
    // DoRA on LoKr, output axis, text-encoder linear [64, 256].
    x = "lora_te_text_model_encoder_layers_1_mlp_fc2";
    f.add(x, {{".lokr_w1", {8, 16}}, {".lokr_w2_a", {8, 2}}, {".lokr_w2_b", {2, 16}}});
    f.add(x, {{".dora_scale", {64, 1}}}, 0.5, 1.5);
    f.add_spec(
        {"dora_lokr_linear_out", x, C + "encoder.layers.1.mlp.fc2.weight", {64, 256}, "lokr", 1.0, Dora::kOutput});
    // Full differences: a linear weight and its bias (.diff_b), a UNet bias by its own name, a norm's
    // weight and bias (.w_norm / .b_norm); .set_weight on a conv.
    x = "lora_unet_down_blocks_1_attentions_1_transformer_blocks_0_ff_net_2";
    f.add(x, {{".diff", {64, 256}}, {".diff_b", {64}}}, -0.05, 0.05);
    f.add_spec({"diff_linear", x, U + "input_blocks.5.1.transformer_blocks.0.ff.net.2.weight", {64, 256}, "diff"});
    f.add_spec({"diff_b", x, U + "input_blocks.5.1.transformer_blocks.0.ff.net.2.bias", {64}, "diff"});
    x = "diffusion_model.out.2.bias";
    f.add(x, {{".diff", {4}}}, -0.05, 0.05);
    f.add_spec({"diff_bias_generic", x, U + "out.2.bias", {4}, "diff"});
    x = "lora_unet_down_blocks_0_resnets_0_norm1";
    f.add(x, {{".w_norm", {32}}, {".b_norm", {32}}}, -0.05, 0.05);
    f.add_spec({"w_norm", x, U + "input_blocks.1.0.in_layers.0.weight", {32}, "diff"});
    f.add_spec({"b_norm", x, U + "input_blocks.1.0.in_layers.0.bias", {32}, "diff"});
    x = "diffusion_model.input_blocks.0.0";
    f.add(x, {{".set_weight", {32, 4, 3, 3}}});
    f.add_spec({"set_weight_conv", x, U + "input_blocks.0.0.weight", {32, 4, 3, 3}, "set"});
    return f;
  }();
  return f;
}

// The file's tensor `x.suffix` as doubles (as the GPU saw it: f16 values already rounded).
Vec get(const model::LoraFile& lf, const std::string& name) {
  const model::TensorInfo* t = lf.file().find(name);
  EXPECT_NE(t, nullptr) << name;
  if (!t) return {};
  auto v = lf.file().to_float(*t);
  return Vec(v.begin(), v.end());
}
Dims dims(const model::LoraFile& lf, const std::string& name) { return lf.file().find(name)->shape; }

// The weight after the spec's patch at `strength`, from the weight before it.
Vec reference(const model::LoraFile& lf, const Spec& sp, Vec w, double strength) {
  const std::string& x = sp.x;
  if (sp.kind == "set") return get(lf, x + ".set_weight");
  if (sp.kind == "diff") {
    std::string suffix = sp.name == "diff_b"   ? ".diff_b"
                         : sp.name == "w_norm" ? ".w_norm"
                         : sp.name == "b_norm" ? ".b_norm"
                                               : ".diff";
    Vec d = get(lf, x + suffix);
    for (size_t i = 0; i < w.size(); ++i) w[i] += strength * d[i];
    return w;
  }
  Vec diff;
  double scale = 1.0;
  if (sp.kind == "loha" || sp.kind == "loha_tucker") {
    Dims a1 = dims(lf, x + ".hada_w1_a"), b1 = dims(lf, x + ".hada_w1_b"), a2 = dims(lf, x + ".hada_w2_a"),
         b2 = dims(lf, x + ".hada_w2_b");
    Vec m1, m2;
    if (sp.kind == "loha_tucker") {
      m1 = tucker(get(lf, x + ".hada_t1"), dims(lf, x + ".hada_t1"), get(lf, x + ".hada_w1_b"), b1[1],
                  get(lf, x + ".hada_w1_a"), a1[1]);
      m2 = tucker(get(lf, x + ".hada_t2"), dims(lf, x + ".hada_t2"), get(lf, x + ".hada_w2_b"), b2[1],
                  get(lf, x + ".hada_w2_a"), a2[1]);
    } else {
      m1 = mm(get(lf, x + ".hada_w1_a"), get(lf, x + ".hada_w1_b"), a1[0], a1[1], b1[1]);
      m2 = mm(get(lf, x + ".hada_w2_a"), get(lf, x + ".hada_w2_b"), a2[0], a2[1], b2[1]);
    }
    diff.resize(m1.size());
    for (size_t i = 0; i < m1.size(); ++i) diff[i] = m1[i] * m2[i];
    if (sp.alpha) scale = *sp.alpha / double(b1[0]);
  } else if (sp.kind == "lokr") {
    const model::TensorInfo* w1f = lf.file().find(x + ".lokr_w1");
    const model::TensorInfo* w2f = lf.file().find(x + ".lokr_w2");
    std::optional<int64_t> dim;
    Vec w1, w2;
    int64_t o1, i1, o2, i2, kl = 1;
    if (w1f) {
      w1 = get(lf, x + ".lokr_w1"), o1 = w1f->shape[0], i1 = w1f->shape[1];
    } else {
      Dims a = dims(lf, x + ".lokr_w1_a"), b = dims(lf, x + ".lokr_w1_b");
      w1 = mm(get(lf, x + ".lokr_w1_a"), get(lf, x + ".lokr_w1_b"), a[0], a[1], b[1]), o1 = a[0], i1 = b[1], dim = b[0];
    }
    if (w2f) {
      w2 = get(lf, x + ".lokr_w2"), o2 = w2f->shape[0], i2 = w2f->shape[1];
      if (w2f->shape.size() == 4) kl = w2f->shape[2] * w2f->shape[3];
    } else if (lf.file().find(x + ".lokr_t2")) {
      Dims a = dims(lf, x + ".lokr_w2_a"), b = dims(lf, x + ".lokr_w2_b"), t = dims(lf, x + ".lokr_t2");
      w2 = tucker(get(lf, x + ".lokr_t2"), t, get(lf, x + ".lokr_w2_b"), b[1], get(lf, x + ".lokr_w2_a"), a[1]);
      o2 = a[1], i2 = b[1], kl = t[2] * t[3], dim = b[0];
    } else {
      Dims a = dims(lf, x + ".lokr_w2_a"), b = dims(lf, x + ".lokr_w2_b");
      w2 = mm(get(lf, x + ".lokr_w2_a"), get(lf, x + ".lokr_w2_b"), a[0], a[1], b[1]), o2 = a[0], i2 = b[1], dim = b[0];
    }
    diff = kron(w1, o1, i1, w2, o2, i2, kl);
    if (sp.alpha && dim) scale = *sp.alpha / double(*dim);
  } else {  // lora
    Dims up = dims(lf, x + ".lora_up.weight"), down = dims(lf, x + ".lora_down.weight");
    diff = mm(get(lf, x + ".lora_up.weight"), get(lf, x + ".lora_down.weight"), up[0], up[1], numel(down) / down[0]);
    if (sp.alpha) scale = *sp.alpha / double(down[0]);
  }
  if (sp.dora != Dora::kNone) {
    weight_decompose(w, sp.shape, diff, scale, strength, get(lf, x + ".dora_scale"), dims(lf, x + ".dora_scale"));
  } else {
    for (size_t i = 0; i < w.size(); ++i) w[i] += strength * scale * diff[i];
  }
  return w;
}

bool is_unet(const std::string& target) { return target.rfind(model::UNet::kPrefix, 0) == 0; }
std::string local_name(const std::string& target) {
  return target.substr(std::string(is_unet(target) ? model::UNet::kPrefix : model::CLIPTextModel::kPrefix).size());
}

struct LycorisCase {
  DType storage;
  double strength;
};

class LycorisPatch : public ::testing::TestWithParam<LycorisCase> {};

TEST_P(LycorisPatch, EveryPatchedTensorMatchesComfyUIFormula) {
  const auto& pc = GetParam();
  auto& s = model_stream();
  const auto& models = tiny_models(pc.storage);
  auto lora = test_file().open(models.config);
  EXPECT_TRUE(lora->not_loaded().empty()) << lora->not_loaded().front();
  ASSERT_EQ(lora->modules().size(), test_file().specs().size());

  std::map<std::string, std::vector<float>> before;
  for (const auto& sp : test_file().specs()) {
    const auto& w = is_unet(sp.target) ? models.unet->weights() : models.clip->weights();
    before[sp.target] = to_host(s, w.get(local_name(sp.target)));
  }
  auto unet2 = model::apply_lora(s, *models.unet, {{lora.get(), pc.strength}});
  auto clip2 = model::apply_lora(s, *models.clip, {{lora.get(), pc.strength}});

  for (const auto& sp : test_file().specs()) {
    const model::LoraModule* m = lora->find(sp.target);
    ASSERT_NE(m, nullptr) << sp.name;
    EXPECT_EQ(m->key, sp.x) << sp.name;
    EXPECT_EQ(m->dora_scale != nullptr, sp.dora != Dora::kNone) << sp.name;
    const auto& orig = is_unet(sp.target) ? models.unet->weights() : models.clip->weights();
    const auto& patched = is_unet(sp.target) ? unet2->weights() : clip2->weights();
    const std::string name = local_name(sp.target);
    const auto& b = before[sp.target];
    ASSERT_EQ(orig.get(name).shape(), Shape(sp.shape)) << sp.name;
    Vec want = reference(*lora, sp, Vec(b.begin(), b.end()), pc.strength);
    auto got = to_host(s, patched.get(name));
    ASSERT_EQ(got.size(), want.size()) << sp.name;
    double big = 0, change = 0, worst = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      big = std::max(big, std::abs(want[i]));
      change = std::max(change, std::abs(want[i] - b[i]));
    }
    EXPECT_GT(change, 1e-3) << sp.name << ": the patch must move the weight, else this test could not fail";
    for (size_t i = 0; i < got.size(); ++i) {
      const double err = std::abs(double(got[i]) - want[i]);
      // f32: a few f32 roundings of values of the tensor's scale; f16: the final rounding to half on top.
      const double tol = (pc.storage == DType::F32 ? 0.0 : 4.9e-4 * std::abs(want[i])) + 2e-6 * big;
      ASSERT_LE(err, tol) << sp.name << " " << name << "[" << i << "] got " << got[i] << " want " << want[i];
      worst = std::max(worst, err);
    }
    EXPECT_EQ(to_host(s, orig.get(name)), b) << "original " << name << " changed";
    std::printf("[lycoris] %-20s %s strength %.1f: max |patched - reference| = %.3g (max |w| %.3g)\n", sp.name.c_str(),
                dtype_name(pc.storage), pc.strength, worst, big);
  }
}

INSTANTIATE_TEST_SUITE_P(Storage, LycorisPatch,
                         ::testing::Values(LycorisCase{DType::F32, 1.0}, LycorisCase{DType::F32, 0.5},
                                           LycorisCase{DType::F16, 1.0}, LycorisCase{DType::F16, 0.5}),
                         [](const ::testing::TestParamInfo<LycorisCase>& i) {
                           return std::string(dtype_name(i.param.storage)) + (i.param.strength == 1.0 ? "_s1" : "_s05");
                         });

// Two LoraLoaders in a chain: the second DoRA patch normalises the weight the first one produced.
TEST(LycorisChain, DoRAAfterLoHaOnTheSameWeight) {
  auto& s = model_stream();
  const auto& models = tiny_models(DType::F32);
  const std::string x = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v";
  const std::string target = U + "input_blocks.1.1.transformer_blocks.0.attn2.to_v.weight";
  LycorisFile loha, dora;
  loha.add(x, {{".hada_w1_a", {32, 2}}, {".hada_w1_b", {2, 64}}, {".hada_w2_a", {32, 2}}, {".hada_w2_b", {2, 64}}});
  dora.add(x, {{".lora_up.weight", {32, 4}}, {".lora_down.weight", {4, 64}}});
  dora.add(x, {{".dora_scale", {1, 64}}}, 0.5, 1.5);
  auto a = loha.open(models.config), b = dora.open(models.config);
  auto unet2 = model::apply_lora(s, *models.unet, {{a.get(), 0.75}, {b.get(), 0.5}});
  auto w0 = to_host(s, models.unet->weights().get(local_name(target)));
  Vec want = reference(*a, {"loha", x, target, {32, 64}, "loha"}, Vec(w0.begin(), w0.end()), 0.75);
  want = reference(*b, {"dora", x, target, {32, 64}, "lora", std::nullopt, Dora::kInput}, want, 0.5);
  auto got = to_host(s, unet2->weights().get(local_name(target)));
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
  EXPECT_LT(worst, 2e-6);
  std::printf("[lycoris] chain loha 0.75 + dora 0.5: max |patched - reference| = %.3g\n", worst);
}

// Strength 0: set_weight still applies (ComfyUI's "set" ignores the strength), every other patch is skipped.
TEST(LycorisChain, StrengthZeroAppliesOnlySetWeight) {
  auto& s = model_stream();
  const auto& models = tiny_models(DType::F32);
  auto lora = test_file().open(models.config);
  auto unet2 = model::apply_lora(s, *models.unet, {{lora.get(), 0.0}});
  for (const auto& sp : test_file().specs()) {
    if (!is_unet(sp.target)) continue;
    const std::string name = local_name(sp.target);
    const bool shared = unet2->weights().get(name).allocation() == models.unet->weights().get(name).allocation();
    EXPECT_EQ(shared, sp.kind != "set") << sp.name;
    if (sp.kind == "set") {
      auto want = lora->file().to_float(*lora->file().find(sp.x + ".set_weight"));
      EXPECT_EQ(to_host(s, unet2->weights().get(name)), want);
    }
  }
}

// ---- Loading: which patch wins, what is reported -------------------------------------------------------------

std::shared_ptr<model::LoraFile> load(const std::vector<StTensor>& ts, std::vector<uint8_t>& image) {
  image = safetensors_image(ts);
  return model::LoraFile::from_file(model::SafetensorsFile::from_memory(image.data(), image.size(), "mem"),
                                    model::tiny_sd15_config());
}
StTensor zeros(const std::string& name, Dims shape) {
  return {name, shape, std::vector<float>(size_t(numel(shape)), 0.0f)};
}

TEST(LycorisKeys, LaterKindsReplaceEarlierOnesAndEveryKeyIsLoaded) {
  const std::string x = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";  // [32, 32]
  const std::string y = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k";
  const std::string z = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_v";
  std::vector<uint8_t> image;
  auto lf = load({zeros(x + ".lora_up.weight", {32, 2}), zeros(x + ".lora_down.weight", {2, 32}),
                  zeros(x + ".hada_w1_a", {32, 2}), zeros(x + ".hada_w1_b", {2, 32}), zeros(x + ".hada_w2_a", {32, 2}),
                  zeros(x + ".hada_w2_b", {2, 32}),  // LoHa after LoRA: LoHa
                  zeros(y + ".lokr_w1", {4, 4}), zeros(y + ".lokr_w2", {8, 8}), zeros(y + ".diff", {32, 32}),  // diff
                  zeros(z + ".lokr_t2", {2, 2, 1, 1}), zeros(z + ".dora_scale", {1, 32})},  // loaded, no patch
                 image);
  EXPECT_TRUE(lf->not_loaded().empty()) << lf->not_loaded().front();
  ASSERT_EQ(lf->modules().size(), 2u);
  EXPECT_EQ(lf->modules()[0].kind, model::LoraKind::kLoHa);
  EXPECT_EQ(lf->modules()[1].kind, model::LoraKind::kDiff);
  EXPECT_EQ(lf->modules()[1].target, U + "input_blocks.1.1.transformer_blocks.0.attn1.to_k.weight");
}

TEST(LycorisKeys, UnusableAndUnknownPatchesAreReportedAsComfyUIDoes) {
  const std::string to_k = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k";  // [32, 64], no bias
  const std::string fc1 = "lora_te_text_model_encoder_layers_0_mlp_fc1";                            // [256, 64]
  const std::string conv = "lora_unet_down_blocks_1_resnets_0_conv1";                               // [64, 32, 3, 3]
  std::vector<uint8_t> image;
  auto lf = load({zeros(to_k + ".diff_b", {32}),                                       // the target has no bias
                  zeros(fc1 + ".diff", {256, 32}),                                     // shape mismatch
                  zeros(conv + ".lokr_w1", {8, 4}), zeros(conv + ".lokr_w2", {8, 4}),  // 2048 elements, not 18432
                  zeros("lora_unet_input_blocks_1_1_proj_in.hada_w1_b", {2, 32}),      // LoHa needs hada_w1_a
                  zeros("lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight", {32, 2}),
                  zeros("lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight", {2, 32 * 9}),
                  zeros("lora_unet_down_blocks_0_resnets_0_conv1.dora_scale", {7})},  // DoRA scale of no axis
                 image);
  EXPECT_TRUE(lf->modules().empty());
  const std::vector<std::string> want = {
      "lora key not loaded: lora_unet_input_blocks_1_1_proj_in.hada_w1_b",
      "NOT LOADED " + U + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.bias",
      "ERROR lora " + U +
          "input_blocks.1.0.in_layers.2.weight: dora_scale "
          "lora_unet_down_blocks_0_resnets_0_conv1.dora_scale does not broadcast to the weight norm's shape, not "
          "applied",
      "ERROR lokr " + U +
          "input_blocks.4.0.in_layers.2.weight: shape mismatch, [64, 16] does not reshape to "
          "[64, 32, 3, 3], not applied",
      "WARNING SHAPE MISMATCH " + C +
          "encoder.layers.0.mlp.fc1.weight WEIGHT NOT MERGED torch.Size([256, 32]) != "
          "torch.Size([256, 64])",
  };
  EXPECT_EQ(lf->not_loaded(), want);
}

TEST(LycorisKeys, LoHaWithoutItsPartnersIsAnError) {
  std::vector<uint8_t> image;
  EXPECT_THROW(load({zeros("lora_unet_input_blocks_1_1_proj_in.hada_w1_a", {32, 2})}, image), model::SafetensorsError);
}

}  // namespace
}  // namespace vkdream::test
