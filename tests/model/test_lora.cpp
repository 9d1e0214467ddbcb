// LoRA: ComfyUI's key mapping (the test LoRA's 10 kohya modules, diffusers/peft spellings, unknown keys)
// and the patched weights against a CPU reference of W + strength * alpha/rank * up @ down for every module
// of the test LoRA, in f32 and f16 storage, with the original model untouched and unpatched tensors shared.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "model/lora.h"
#include "model/tiny_models.h"

namespace vkdream::test {
namespace {

const char* kLoraPath = VKDREAM_FIXTURES_DIR "/graphs/loras/tiny-lora.safetensors";

// graphs/index.json "lora": module -> patched checkpoint weight.
const std::map<std::string, std::string> kExpected = {
    {"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q",
     "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight"},
    {"lora_unet_down_blocks_0_attentions_1_transformer_blocks_0_attn2_to_k",
     "model.diffusion_model.input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight"},
    {"lora_unet_down_blocks_1_attentions_1_transformer_blocks_0_attn1_to_out_0",
     "model.diffusion_model.input_blocks.5.1.transformer_blocks.0.attn1.to_out.0.weight"},
    {"lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_v",
     "model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_v.weight"},
    {"lora_unet_up_blocks_1_attentions_0_proj_in", "model.diffusion_model.output_blocks.3.1.proj_in.weight"},
    {"lora_unet_up_blocks_2_attentions_1_transformer_blocks_0_ff_net_0_proj",
     "model.diffusion_model.output_blocks.7.1.transformer_blocks.0.ff.net.0.proj.weight"},
    {"lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_attn1_to_v",
     "model.diffusion_model.output_blocks.11.1.transformer_blocks.0.attn1.to_v.weight"},
    {"lora_te_text_model_encoder_layers_0_self_attn_q_proj",
     "cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight"},
    {"lora_te_text_model_encoder_layers_1_self_attn_out_proj",
     "cond_stage_model.transformer.text_model.encoder.layers.1.self_attn.out_proj.weight"},
    {"lora_te_text_model_encoder_layers_1_mlp_fc1",
     "cond_stage_model.transformer.text_model.encoder.layers.1.mlp.fc1.weight"},
};

TEST(LoraKeys, TestLoraModulesMapOntoTheirWeights) {
  auto lora = model::LoraFile::open(kLoraPath, model::tiny_sd15_config());
  ASSERT_EQ(lora->modules().size(), kExpected.size());
  for (const auto& m : lora->modules()) {
    auto it = kExpected.find(m.key);
    ASSERT_NE(it, kExpected.end()) << m.key;
    EXPECT_EQ(m.target, it->second);
  }
  EXPECT_TRUE(lora->not_loaded().empty()) << lora->not_loaded().front();
  // alpha 2 over rank 4; the rank-2 module without alpha scales by 1.
  EXPECT_DOUBLE_EQ(lora->find(kExpected.at("lora_unet_up_blocks_1_attentions_0_proj_in"))->scale(), 0.5);
  EXPECT_DOUBLE_EQ(lora->find(kExpected.at("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_v"))->scale(),
                   1.0);
  EXPECT_DOUBLE_EQ(lora->find(kExpected.at("lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_attn1_to_v"))->scale(),
                   1.0);
}

TEST(LoraKeys, DiffusersPeftAndUnknownNames) {
  auto cfg = model::tiny_sd15_config();
  auto pair = [](const std::string& up, const std::string& down, int64_t out, int64_t in) {
    return std::vector<StTensor>{{up, {out, 2}, std::vector<float>(size_t(out * 2), 0.5f)},
                                 {down, {2, in}, std::vector<float>(size_t(2 * in), 0.25f)}};
  };
  std::vector<StTensor> ts;
  auto add = [&](std::vector<StTensor> v) { ts.insert(ts.end(), v.begin(), v.end()); };
  // diffusers attention processor names (to_out.0 -> to_out), unet. prefix
  add(pair("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.up.weight",
           "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.down.weight", 32, 32));
  // peft lora_A/lora_B on a diffusers module without processor
  add(pair("up_blocks.1.resnets.2.conv_shortcut.lora_B.weight", "up_blocks.1.resnets.2.conv_shortcut.lora_A.weight", 128,
           192));
  // transformers-style text encoder
  add(pair("text_encoder.text_model.encoder.layers.1.mlp.fc2.lora_linear_layer.up.weight",
           "text_encoder.text_model.encoder.layers.1.mlp.fc2.lora_linear_layer.down.weight", 64, 256));
  // kohya on the diffusers name of a resnet conv, and lycoris prefix
  add(pair("lora_unet_mid_block_resnets_1_time_emb_proj.lora_up.weight",
           "lora_unet_mid_block_resnets_1_time_emb_proj.lora_down.weight", 128, 128));
  add(pair("lycoris_up_blocks_0_upsamplers_0_conv.lora_up.weight", "lycoris_up_blocks_0_upsamplers_0_conv.lora_down.weight",
           128, 128 * 9));
  // generic LDM name
  add(pair("diffusion_model.out.2.lora_up.weight", "diffusion_model.out.2.lora_down.weight", 4, 32 * 9));
  // a key nothing maps, and a LoHa factor without the hada_w1_a that makes LoHaAdapter load it
  ts.push_back({"lora_unet_no_such_module.lora_up.weight", {4, 2}, std::vector<float>(8, 1.0f)});
  ts.push_back({"lora_unet_input_blocks_1_1_proj_in.hada_w1_b", {4, 2}, std::vector<float>(8, 1.0f)});
  auto image = safetensors_image(ts);
  auto lora = model::LoraFile::from_file(model::SafetensorsFile::from_memory(image.data(), image.size(), "mem"), cfg);
  std::map<std::string, std::string> got;
  for (const auto& m : lora->modules()) got[m.key] = m.target;
  const std::string U = "model.diffusion_model.";
  EXPECT_EQ(got["unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out"],
            U + "input_blocks.1.1.transformer_blocks.0.attn1.to_out.0.weight");
  EXPECT_EQ(got["up_blocks.1.resnets.2.conv_shortcut"], U + "output_blocks.5.0.skip_connection.weight");
  EXPECT_EQ(got["text_encoder.text_model.encoder.layers.1.mlp.fc2"],
            "cond_stage_model.transformer.text_model.encoder.layers.1.mlp.fc2.weight");
  EXPECT_EQ(got["lora_unet_mid_block_resnets_1_time_emb_proj"], U + "middle_block.2.emb_layers.1.weight");
  EXPECT_EQ(got["lycoris_up_blocks_0_upsamplers_0_conv"], U + "output_blocks.2.1.conv.weight");
  EXPECT_EQ(got["diffusion_model.out.2"], U + "out.2.weight");
  EXPECT_EQ(lora->modules().size(), 6u);
  std::vector<std::string> expected_not_loaded = {"lora key not loaded: lora_unet_no_such_module.lora_up.weight",
                                                  "lora key not loaded: lora_unet_input_blocks_1_1_proj_in.hada_w1_b"};
  EXPECT_EQ(lora->not_loaded(), expected_not_loaded);
}

// The CPU reference for one target: W + sum over refs of strength * scale * up @ down, in double.
std::vector<double> reference(const std::vector<float>& w, const std::vector<std::pair<const model::LoraModule*, double>>& ps,
                              const model::LoraFile& file) {
  std::vector<double> out(w.begin(), w.end());
  for (auto [m, strength] : ps) {
    auto up = file.file().to_float(*m->up), down = file.file().to_float(*m->down);
    const int64_t rows = m->up->shape[0], rank = m->down->shape[0];
    const int64_t cols = int64_t(down.size()) / rank;
    for (int64_t o = 0; o < rows; ++o)
      for (int64_t i = 0; i < cols; ++i) {
        double acc = 0;
        for (int64_t r = 0; r < rank; ++r) acc += double(up[size_t(o * rank + r)]) * double(down[size_t(r * cols + i)]);
        out[size_t(o * cols + i)] += strength * m->scale() * acc;
      }
  }
  return out;
}

struct PatchCase {
  DType storage;
  std::vector<double> strengths;  // one LoraLoader per entry, all with the test LoRA
};

class LoraPatch : public ::testing::TestWithParam<PatchCase> {};

TEST_P(LoraPatch, PatchedWeightsMatchTheFormula) {
  const auto& pc = GetParam();
  auto& s = model_stream();
  const auto& models = tiny_models(pc.storage);
  auto lora = model::LoraFile::open(kLoraPath, models.config);
  std::vector<model::LoraRef> refs;
  for (double st : pc.strengths) refs.push_back({lora.get(), st});

  // Originals before patching, to check that they stay untouched.
  std::map<std::string, std::vector<float>> before;
  for (const auto& m : lora->modules()) {
    bool unet = m.target.rfind(model::UNet::kPrefix, 0) == 0;
    const auto& w = unet ? models.unet->weights() : models.clip->weights();
    std::string name = m.target.substr(std::string(unet ? model::UNet::kPrefix : model::CLIPTextModel::kPrefix).size());
    before[m.target] = to_host(s, w.get(name));
  }
  auto unet2 = model::apply_lora(s, *models.unet, refs);
  auto clip2 = model::apply_lora(s, *models.clip, refs);

  double worst = 0;
  for (const auto& m : lora->modules()) {
    bool unet = m.target.rfind(model::UNet::kPrefix, 0) == 0;
    std::string name = m.target.substr(std::string(unet ? model::UNet::kPrefix : model::CLIPTextModel::kPrefix).size());
    const auto& orig = unet ? models.unet->weights() : models.clip->weights();
    const auto& patched = unet ? unet2->weights() : clip2->weights();
    std::vector<std::pair<const model::LoraModule*, double>> ps;
    for (double st : pc.strengths) ps.push_back({&m, st});
    auto want = reference(before[m.target], ps, *lora);
    auto got = to_host(s, patched.get(name));
    ASSERT_EQ(got.size(), want.size()) << name;
    bool all_zero = true;
    for (double st : pc.strengths) all_zero = all_zero && st == 0.0;
    double change = 0;  // the patch must move the weight (else this test could not fail)
    for (size_t i = 0; i < want.size(); ++i) change = std::max(change, std::abs(want[i] - before[m.target][i]));
    EXPECT_EQ(change > 1e-3, !all_zero) << name << " reference change " << change;
    for (size_t i = 0; i < got.size(); ++i) {
      double err = std::abs(double(got[i]) - want[i]);
      // f32: a few roundings of the f32 sum; f16: the final rounding to half (2^-11 relative) on top.
      double tol = pc.storage == DType::F32 ? 1e-6 * (1 + std::abs(want[i])) : 1e-3 * std::abs(want[i]) + 1e-6;
      ASSERT_LE(err, tol) << name << "[" << i << "] got " << got[i] << " want " << want[i];
      worst = std::max(worst, err);
    }
    EXPECT_EQ(to_host(s, orig.get(name)), before[m.target]) << "original " << name << " changed";
    // Strength 0 patches nothing: the tensor is shared, as every unpatched one is.
    EXPECT_EQ(patched.get(name).allocation() == orig.get(name).allocation(), all_zero) << name;
  }
  EXPECT_EQ(unet2->weights().get("input_blocks.1.1.proj_in.weight").allocation(),
            models.unet->weights().get("input_blocks.1.1.proj_in.weight").allocation());
  EXPECT_EQ(clip2->weights().get("encoder.layers.0.self_attn.k_proj.weight").allocation(),
            models.clip->weights().get("encoder.layers.0.self_attn.k_proj.weight").allocation());
  std::printf("[lora] %s strengths", dtype_name(pc.storage));
  for (double st : pc.strengths) std::printf(" %g", st);
  std::printf(": max |patched - reference| = %.3g\n", worst);
}

INSTANTIATE_TEST_SUITE_P(
    Strengths, LoraPatch,
    ::testing::Values(PatchCase{DType::F32, {1.0}}, PatchCase{DType::F32, {0.0}}, PatchCase{DType::F32, {-0.5}},
                      PatchCase{DType::F32, {1.0, -0.5}}, PatchCase{DType::F16, {1.0}}, PatchCase{DType::F16, {-0.5}},
                      PatchCase{DType::F16, {0.0}}),
    [](const ::testing::TestParamInfo<PatchCase>& i) {
      std::string n = dtype_name(i.param.storage);
      for (double st : i.param.strengths) n += st == 0 ? "_0" : st > 0 ? "_p" + std::to_string(int(st * 10)) : "_m" + std::to_string(int(-st * 10));
      return n;
    });

}  // namespace
}  // namespace vkdream::test
