// SD1.x config detection from names and shapes: the full-size SD1.5 layout (header only, no data),
// its variants (inpainting, linear proj_in, mixed dtypes, EMA extras), and clear errors for other
// families, missing, mis-shaped, mis-typed and unexpected tensors. The tiny checkpoint's detection
// from a real file is in test_tiny_sd15.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "model/sd15_config.h"

namespace vkdream::model {
namespace {

std::vector<TensorInfo> infos(const SD15Config& cfg, StDType dtype = StDType::F16) {
  std::vector<TensorInfo> out;
  for (const auto& t : sd15_tensor_layout(cfg)) {
    TensorInfo i;
    i.name = t.name;
    i.shape = t.shape;
    i.dtype = t.role == SD15Role::PositionIds ? StDType::I64 : dtype;
    out.push_back(std::move(i));
  }
  return out;
}

TensorInfo* find(std::vector<TensorInfo>& ts, const std::string& name) {
  for (auto& t : ts)
    if (t.name == name) return &t;
  ADD_FAILURE() << "no tensor " << name;
  return nullptr;
}

void remove_tensor(std::vector<TensorInfo>& ts, const std::string& name) {
  auto n = ts.size();
  std::erase_if(ts, [&](const TensorInfo& t) { return t.name == name; });
  ASSERT_EQ(ts.size(), n - 1) << name;
}

std::string error_of(const std::vector<TensorInfo>& ts, const SD15DetectOptions& opts = {}) {
  try {
    detect_sd15_config(ts, "model.safetensors", opts);
  } catch (const SD15ConfigError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "'" << (haystack) << "' lacks '" << (needle) << "'"

TEST(SD15Config, FullSizeSD15LayoutDetectsAsSD15) {
  auto ts = infos(sd15_base_config());
  std::map<std::string, int> parts;
  for (auto& t : ts) parts[t.name.substr(0, t.name.find('.'))]++;
  EXPECT_EQ(parts["model"], 686);
  EXPECT_EQ(parts["first_stage_model"], 248);
  EXPECT_EQ(parts["cond_stage_model"], 197);  // 196 weights + position_ids
  EXPECT_EQ(ts.size(), 686u + 248 + 197 + 12);

  // Shapes as in the real v1-5-pruned / Dreamshaper 8 files.
  const std::map<std::string, std::vector<int64_t>> real = {
      {"model.diffusion_model.input_blocks.0.0.weight", {320, 4, 3, 3}},
      {"model.diffusion_model.time_embed.0.weight", {1280, 320}},
      {"model.diffusion_model.input_blocks.1.1.proj_in.weight", {320, 320, 1, 1}},
      {"model.diffusion_model.input_blocks.4.0.skip_connection.weight", {640, 320, 1, 1}},
      {"model.diffusion_model.input_blocks.9.0.op.weight", {1280, 1280, 3, 3}},
      {"model.diffusion_model.input_blocks.7.1.transformer_blocks.0.attn2.to_k.weight", {1280, 768}},
      {"model.diffusion_model.input_blocks.7.1.transformer_blocks.0.ff.net.0.proj.weight", {10240, 1280}},
      {"model.diffusion_model.middle_block.1.transformer_blocks.0.ff.net.2.weight", {1280, 5120}},
      {"model.diffusion_model.output_blocks.2.1.conv.weight", {1280, 1280, 3, 3}},
      {"model.diffusion_model.output_blocks.3.0.in_layers.0.weight", {2560}},
      {"model.diffusion_model.output_blocks.5.2.conv.weight", {1280, 1280, 3, 3}},
      {"model.diffusion_model.output_blocks.8.2.conv.weight", {640, 640, 3, 3}},
      {"model.diffusion_model.output_blocks.11.0.skip_connection.weight", {320, 640, 1, 1}},
      {"model.diffusion_model.out.2.weight", {4, 320, 3, 3}},
      {"first_stage_model.encoder.conv_out.weight", {8, 512, 3, 3}},
      {"first_stage_model.encoder.mid.attn_1.q.weight", {512, 512, 1, 1}},
      {"first_stage_model.decoder.up.0.block.0.nin_shortcut.weight", {128, 256, 1, 1}},
      {"first_stage_model.decoder.up.3.upsample.conv.weight", {512, 512, 3, 3}},
      {"first_stage_model.quant_conv.weight", {8, 8, 1, 1}},
      {"cond_stage_model.transformer.text_model.embeddings.token_embedding.weight", {49408, 768}},
      {"cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc1.weight", {3072, 768}},
      {"cond_stage_model.transformer.text_model.final_layer_norm.bias", {768}},
  };
  for (auto& [name, shape] : real) {
    if (auto* t = find(ts, name)) {
      EXPECT_EQ(t->shape, shape) << name;
    }
  }

  SD15Config cfg = detect_sd15_config(ts, "dreamshaper_8.safetensors");
  EXPECT_EQ(cfg, sd15_base_config());
  EXPECT_EQ(cfg.unet.model_channels, 320);
  EXPECT_EQ(cfg.unet.channel_mult, (std::vector<int>{1, 2, 4, 4}));
  EXPECT_EQ(cfg.unet.attention_levels, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(cfg.unet.context_dim, 768);
  EXPECT_EQ(cfg.unet.num_heads, 8);
  EXPECT_FALSE(cfg.unet.use_linear_in_transformer);
  EXPECT_EQ(cfg.clip.hidden_size, 768);
  EXPECT_EQ(cfg.clip.num_layers, 12);
  EXPECT_EQ(cfg.clip.intermediate_size, 3072);
  EXPECT_EQ(cfg.clip.num_heads, 12);
  EXPECT_EQ(cfg.vae.ch, 128);
  EXPECT_EQ(cfg.vae.ch_mult, (std::vector<int>{1, 2, 4, 4}));
  EXPECT_EQ(cfg.vae.z_channels, 4);
  EXPECT_EQ(cfg.unet_dtype, StDType::F16);
  EXPECT_TRUE(cfg.has_position_ids && cfg.has_schedule_buffers);
}

TEST(SD15Config, VariantsDetect) {
  SD15Config inpaint = sd15_base_config();
  inpaint.unet.in_channels = 9;
  EXPECT_EQ(detect_sd15_config(infos(inpaint), "inpaint").unet.in_channels, 9);

  SD15Config linear = sd15_base_config();
  linear.unet.use_linear_in_transformer = true;
  linear.vae.attn_linear = true;  // diffusers-converted VAE attention stored as [512,512]
  EXPECT_EQ(detect_sd15_config(infos(linear), "linear"), linear);

  SD15Config deep = tiny_sd15_config();
  deep.unet.transformer_depth = 2;
  deep.unet.attention_levels = {1, 2};
  deep.unet.num_res_blocks = 1;
  deep.vae.num_res_blocks = 1;
  deep.clip.num_layers = 3;
  EXPECT_EQ(detect_sd15_config(infos(deep), "deep"), deep);

  // Mixed dtypes, optional tensors absent, EMA extras ignored.
  auto ts = infos(sd15_base_config(), StDType::BF16);
  for (auto& t : ts)
    if (t.name.rfind("first_stage_model.", 0) == 0) t.dtype = StDType::F32;
  remove_tensor(ts, "cond_stage_model.transformer.text_model.embeddings.position_ids");
  remove_tensor(ts, "betas");
  ts.push_back(TensorInfo{"model_ema.decay", StDType::F32, {}, 0, 0});
  ts.push_back(TensorInfo{"model_ema.diffusion_modelinput_blocks00weight", StDType::F32, {320, 4, 3, 3}, 0, 0});
  SD15Config cfg = detect_sd15_config(ts, "mixed");
  EXPECT_EQ(cfg, sd15_base_config());
  EXPECT_EQ(cfg.unet_dtype, StDType::BF16);
  EXPECT_EQ(cfg.vae_dtype, StDType::F32);
  EXPECT_FALSE(cfg.has_position_ids);
  EXPECT_FALSE(cfg.has_schedule_buffers);
  EXPECT_EQ(cfg.ignored.size(), 2u);

  // The CLIP head override.
  EXPECT_EQ(detect_sd15_config(infos(sd15_base_config()), "x", {.clip_num_heads = 1}).clip.num_heads, 1);
  EXPECT_EQ(detect_sd15_config(infos(tiny_sd15_config()), "x", {.unet_num_heads = 4}).unet.num_heads, 4);
}

TEST(SD15Config, SDXLLikeKeysAreRejected) {
  auto ts = infos(sd15_base_config());
  for (auto& t : ts) {
    const std::string p = "cond_stage_model.transformer.";
    if (t.name.rfind(p, 0) == 0) t.name = "conditioner.embedders.0.transformer." + t.name.substr(p.size());
  }
  ts.push_back(TensorInfo{"model.diffusion_model.label_emb.0.0.weight", StDType::F16, {1280, 2816}, 0, 0});
  std::string err = error_of(ts);
  EXPECT_HAS(err, "model.safetensors");
  EXPECT_HAS(err, "SDXL");
  EXPECT_HAS(err, "conditioner.embedders");

  auto unet_only = infos(sd15_base_config());
  unet_only.push_back(TensorInfo{"model.diffusion_model.label_emb.0.0.weight", StDType::F16, {1280, 2816}, 0, 0});
  EXPECT_HAS(error_of(unet_only), "label_emb");
}

TEST(SD15Config, SD2LikeKeysAreRejected) {
  auto ts = infos(sd15_base_config());
  std::erase_if(ts, [](const TensorInfo& t) { return t.name.rfind("cond_stage_model.", 0) == 0; });
  ts.push_back(TensorInfo{"cond_stage_model.model.token_embedding.weight", StDType::F16, {49408, 1024}, 0, 0});
  ts.push_back(TensorInfo{"cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight", StDType::F16,
                          {3072, 1024}, 0, 0});
  std::string err = error_of(ts);
  EXPECT_HAS(err, "SD2");
  EXPECT_HAS(err, "cond_stage_model.model.");

  // SD2 shapes with SD1-style text encoder names: caught by the 1024-wide context.
  SD15Config sd2 = sd15_base_config();
  sd2.unet.context_dim = 1024;
  sd2.unet.use_linear_in_transformer = true;
  sd2.clip.hidden_size = 1024;
  sd2.clip.intermediate_size = 4096;
  sd2.clip.num_layers = 23;
  err = error_of(infos(sd2));
  EXPECT_HAS(err, "1024");
  EXPECT_HAS(err, "SD2");
  EXPECT_HAS(err, "attn2.to_k.weight");
}

TEST(SD15Config, OtherLayoutsAreRejected) {
  EXPECT_HAS(error_of({}), "no tensors");
  std::vector<TensorInfo> diffusers = {{"down_blocks.0.resnets.0.conv1.weight", StDType::F16, {320, 320, 3, 3}, 0, 0}};
  EXPECT_HAS(error_of(diffusers), "diffusers");
  EXPECT_HAS(error_of(diffusers), "model.diffusion_model.input_blocks.0.0.weight");

  auto no_vae = infos(sd15_base_config());
  std::erase_if(no_vae, [](const TensorInfo& t) { return t.name.rfind("first_stage_model.", 0) == 0; });
  EXPECT_HAS(error_of(no_vae), "no VAE");

  SD15Config pix2pix = sd15_base_config();
  pix2pix.unet.in_channels = 8;
  std::string err = error_of(infos(pix2pix));
  EXPECT_HAS(err, "model.diffusion_model.input_blocks.0.0.weight");
  EXPECT_HAS(err, "[320,8,3,3]");
  EXPECT_HAS(err, "9 for inpainting");
}

TEST(SD15Config, MissingTensorIsNamed) {
  auto ts = infos(sd15_base_config());
  const std::string gone = "model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_v.weight";
  remove_tensor(ts, gone);
  std::string err = error_of(ts);
  EXPECT_HAS(err, "missing tensor '" + gone + "'");
  EXPECT_HAS(err, "[1280,768]");
  EXPECT_HAS(err, "1 problem");

  // A tensor detection itself needs.
  ts = infos(sd15_base_config());
  remove_tensor(ts, "first_stage_model.decoder.conv_in.weight");
  EXPECT_HAS(error_of(ts), "missing tensor 'first_stage_model.decoder.conv_in.weight'");

  // Many missing: the first few are listed, then a count.
  ts = infos(sd15_base_config());
  std::erase_if(ts, [](const TensorInfo& t) { return t.name.find("output_blocks.11.") != std::string::npos; });
  err = error_of(ts);
  EXPECT_HAS(err, "missing tensor 'model.diffusion_model.output_blocks.11.0.in_layers.0.weight'");
  EXPECT_HAS(err, "more");
}

TEST(SD15Config, WrongShapeIsNamedWithExpectedAndFound) {
  auto ts = infos(sd15_base_config());
  const std::string name = "model.diffusion_model.input_blocks.4.1.transformer_blocks.0.ff.net.2.weight";
  find(ts, name)->shape = {640, 2048};
  std::string err = error_of(ts);
  EXPECT_HAS(err, "tensor '" + name + "' has shape [640,2048], expected [640,2560]");

  ts = infos(sd15_base_config());
  find(ts, "first_stage_model.decoder.norm_out.weight")->shape = {128, 1};
  EXPECT_HAS(error_of(ts), "tensor 'first_stage_model.decoder.norm_out.weight' has shape [128,1], expected [128]");

  // A shape detection reads: the error still names the tensor.
  ts = infos(sd15_base_config());
  find(ts, "model.diffusion_model.input_blocks.0.0.weight")->shape = {320, 4, 9};
  EXPECT_HAS(error_of(ts), "tensor 'model.diffusion_model.input_blocks.0.0.weight' has shape [320,4,9]");
  ts = infos(sd15_base_config());
  find(ts, "model.diffusion_model.input_blocks.5.0.out_layers.3.weight")->shape = {650, 640, 3, 3};
  EXPECT_HAS(error_of(ts), "input_blocks.5.0.out_layers.3.weight' has shape [650,640,3,3]");
}

TEST(SD15Config, WrongDtypeAndUnexpectedTensorsAreNamed) {
  auto ts = infos(sd15_base_config());
  find(ts, "model.diffusion_model.out.0.bias")->dtype = StDType::I32;
  EXPECT_HAS(error_of(ts), "tensor 'model.diffusion_model.out.0.bias' has dtype I32, expected F32, F16 or BF16");

  ts = infos(sd15_base_config());
  find(ts, "cond_stage_model.transformer.text_model.embeddings.position_ids")->dtype = StDType::U8;
  EXPECT_HAS(error_of(ts), "position_ids' has dtype U8");

  ts = infos(sd15_base_config());
  ts.push_back(TensorInfo{"first_stage_model.encoder.down.2.attn.0.q.weight", StDType::F16, {512, 512, 1, 1}, 0, 0});
  EXPECT_HAS(error_of(ts), "unexpected tensor 'first_stage_model.encoder.down.2.attn.0.q.weight'");

  ts = infos(tiny_sd15_config());
  ts.push_back(ts[5]);
  EXPECT_HAS(error_of(ts), "duplicate tensor name '" + ts[5].name + "'");

  // check_sd15_tensors alone, against a given architecture.
  EXPECT_NO_THROW(check_sd15_tensors(infos(tiny_sd15_config()), tiny_sd15_config(), "tiny"));
  try {
    check_sd15_tensors(infos(tiny_sd15_config()), sd15_base_config(), "tiny");
    FAIL();
  } catch (const SD15ConfigError& e) {
    EXPECT_HAS(std::string(e.what()), "checkpoint 'tiny'");
    EXPECT_HAS(std::string(e.what()), "expected [320,4,3,3]");
  }
}

}  // namespace
}  // namespace vkdream::model
