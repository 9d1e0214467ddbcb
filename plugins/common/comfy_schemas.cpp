#include "comfy_schemas.h"

#include <cstdint>
#include <filesystem>

namespace vkdream::comfy_schemas {

const std::vector<std::string> kSamplers = {
    "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "exp_heun_2_x0",
    "exp_heun_2_x0_sde", "dpm_2", "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral",
    "dpmpp_2s_ancestral_cfg_pp", "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde",
    "dpmpp_2m_sde_gpu", "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm",
    "lcm", "ipndm", "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral",
    "res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde", "seeds_2",
    "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc", "uni_pc_bh2"};
const std::vector<std::string> kSchedulers = {"simple", "sgm_uniform", "karras", "exponential", "ddim_uniform",
                                              "beta", "normal", "linear_quadratic", "kl_optimal"};

namespace {
constexpr int64_t kMaxResolution = 16384;

using B = vkd::NodeBuilder;

B& link(B& b, const char* name, const char* type, const char* tooltip = nullptr) {
  b.input(name, type, VKD_INPUT_REQUIRED);
  if (tooltip) b.tooltip(tooltip);
  return b;
}
B& int_in(B& b, const char* name, int64_t def, int64_t min, int64_t max, int64_t step = 0,
          const char* tooltip = nullptr, const char* extra = nullptr) {
  b.input(name, "INT", VKD_INPUT_REQUIRED, [&](VkdInputDecl& d) {
    d.flags = VKD_INPUT_FLAG_DEFAULT | VKD_INPUT_FLAG_MIN | VKD_INPUT_FLAG_MAX | (step ? VKD_INPUT_FLAG_STEP : 0);
    d.int_default = def;
    d.int_min = min;
    d.int_max = max;
    d.int_step = step;
  });
  if (extra) b.extra_json(extra);
  if (tooltip) b.tooltip(tooltip);
  return b;
}
B& seed_in(B& b, const char* name, const char* tooltip) {
  b.input(name, "INT", VKD_INPUT_REQUIRED, [&](VkdInputDecl& d) {
    d.flags = VKD_INPUT_FLAG_DEFAULT | VKD_INPUT_FLAG_MIN | VKD_INPUT_FLAG_MAX | VKD_INPUT_FLAG_UNSIGNED;
    d.int_default = 0;
    d.int_min = 0;
    d.int_max = static_cast<int64_t>(UINT64_MAX);  // 0xffffffffffffffff as uint64 bits
  });
  b.extra_json("\"control_after_generate\": true");
  if (tooltip) b.tooltip(tooltip);
  return b;
}
B& float_in(B& b, const char* name, double def, double min, double max, double step, double round = 0,
            const char* tooltip = nullptr) {
  b.input(name, "FLOAT", VKD_INPUT_REQUIRED, [&](VkdInputDecl& d) {
    d.flags = VKD_INPUT_FLAG_DEFAULT | VKD_INPUT_FLAG_MIN | VKD_INPUT_FLAG_MAX | VKD_INPUT_FLAG_STEP |
              (round != 0 ? VKD_INPUT_FLAG_ROUND : 0);
    d.float_default = def;
    d.float_min = min;
    d.float_max = max;
    d.float_step = step;
    d.float_round = round;
  });
  if (tooltip) b.tooltip(tooltip);
  return b;
}
B& combo(B& b, const char* name, const std::vector<std::string>& options, const char* tooltip = nullptr) {
  b.input_combo(name, options);
  if (tooltip) b.tooltip(tooltip);
  return b;
}

// Dynamic combos: the files of a host folder (folder_paths.get_filename_list).
VkdStatus list_folder(const VkdHost* host, void* user, VkdStringSink* sink) {
  auto* paths = host ? static_cast<const VkdPathsService*>(host->get_service(host, VKD_SERVICE_PATHS, 1)) : nullptr;
  if (!paths) return VKD_ERROR_NOT_FOUND;
  paths->list_files(host, static_cast<const char*>(user), sink);
  return VKD_OK;
}
B& folder_combo(B& b, const char* name, const char* folder, const char* tooltip = nullptr,
                const char* extra = nullptr) {
  b.input_combo_fn(name, &list_folder, const_cast<char*>(folder));
  if (extra) b.extra_json(extra);
  if (tooltip) b.tooltip(tooltip);
  return b;
}

const std::vector<std::string> kLatentUpscaleMethods = {"nearest-exact", "bilinear", "area", "bicubic", "bislerp"};
const std::vector<std::string> kImageUpscaleMethods = {"nearest-exact", "bilinear", "area", "bicubic", "lanczos"};
const std::vector<std::string> kCrop = {"disabled", "center"};
}  // namespace

B checkpoint_loader_simple(vkd::Plugin& p) {
  B b = p.node("CheckpointLoaderSimple");
  b.display_name("Load Checkpoint").category("loaders").description(
      "Loads a diffusion model checkpoint, diffusion models are used to denoise latents.");
  folder_combo(b, "ckpt_name", "checkpoints", "The name of the checkpoint (model) to load.");
  b.output("MODEL").output("CLIP").output("VAE");
  return b;
}
B clip_text_encode(vkd::Plugin& p) {
  B b = p.node("CLIPTextEncode");
  b.display_name("CLIP Text Encode (Prompt)").category("conditioning").description(
      "Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model "
      "towards generating specific images.");
  b.input("text", "STRING", VKD_INPUT_REQUIRED).extra_json("\"multiline\": true, \"dynamicPrompts\": true")
      .tooltip("The text to be encoded.");
  link(b, "clip", "CLIP", "The CLIP model used for encoding the text.");
  b.output("CONDITIONING");
  return b;
}
B clip_set_last_layer(vkd::Plugin& p) {
  B b = p.node("CLIPSetLastLayer");
  b.display_name("CLIP Set Last Layer").category("conditioning");
  link(b, "clip", "CLIP");
  int_in(b, "stop_at_clip_layer", -1, -24, -1, 1);
  b.output("CLIP");
  return b;
}
static void sampler_common(B& b, bool advanced) {
  const char* t_steps = advanced ? nullptr : "The number of steps used in the denoising process.";
  int_in(b, "steps", 20, 1, 10000, 0, t_steps);
  float_in(b, "cfg", 8.0, 0.0, 100.0, 0.1, 0.01,
           advanced ? nullptr
                    : "The Classifier-Free Guidance scale balances creativity and adherence to the prompt. Higher "
                      "values result in images more closely matching the prompt however too high values will "
                      "negatively impact quality.");
  combo(b, "sampler_name", kSamplers,
        advanced ? nullptr
                 : "The algorithm used when sampling, this can affect the quality, speed, and style of the "
                   "generated output.");
  combo(b, "scheduler", kSchedulers,
        advanced ? nullptr : "The scheduler controls how noise is gradually removed to form the image.");
  link(b, "positive", "CONDITIONING",
       advanced ? nullptr : "The conditioning describing the attributes you want to include in the image.");
  link(b, "negative", "CONDITIONING",
       advanced ? nullptr : "The conditioning describing the attributes you want to exclude from the image.");
  link(b, "latent_image", "LATENT", advanced ? nullptr : "The latent image to denoise.");
}
B ksampler(vkd::Plugin& p) {
  B b = p.node("KSampler");
  b.display_name("KSampler").category("sampling").description(
      "Uses the provided model, positive and negative conditioning to denoise the latent image.");
  link(b, "model", "MODEL", "The model used for denoising the input latent.");
  seed_in(b, "seed", "The random seed used for creating the noise.");
  sampler_common(b, false);
  float_in(b, "denoise", 1.0, 0.0, 1.0, 0.01, 0,
           "The amount of denoising applied, lower values will maintain the structure of the initial image "
           "allowing for image to image sampling.");
  b.output("LATENT");
  return b;
}
B ksampler_advanced(vkd::Plugin& p) {
  B b = p.node("KSamplerAdvanced");
  b.display_name("KSampler (Advanced)").category("sampling");
  link(b, "model", "MODEL");
  combo(b, "add_noise", {"enable", "disable"});
  seed_in(b, "noise_seed", nullptr);
  sampler_common(b, true);
  int_in(b, "start_at_step", 0, 0, 10000);
  int_in(b, "end_at_step", 10000, 0, 10000);
  combo(b, "return_with_leftover_noise", {"disable", "enable"});
  b.output("LATENT");
  return b;
}
B empty_latent_image(vkd::Plugin& p) {
  B b = p.node("EmptyLatentImage");
  b.display_name("Empty Latent Image").category("latent").description(
      "Create a new batch of empty latent images to be denoised via sampling.");
  int_in(b, "width", 512, 16, kMaxResolution, 8, "The width of the latent images in pixels.");
  int_in(b, "height", 512, 16, kMaxResolution, 8, "The height of the latent images in pixels.");
  int_in(b, "batch_size", 1, 1, 4096, 0, "The number of latent images in the batch.");
  b.output("LATENT");
  return b;
}
B vae_decode(vkd::Plugin& p) {
  B b = p.node("VAEDecode");
  b.display_name("VAE Decode").category("latent").description("Decodes latent images back into pixel space images.");
  link(b, "samples", "LATENT", "The latent to be decoded.");
  link(b, "vae", "VAE", "The VAE model used for decoding the latent.");
  b.output("IMAGE");
  return b;
}
B vae_encode(vkd::Plugin& p) {
  B b = p.node("VAEEncode");
  b.display_name("VAE Encode").category("latent");
  link(b, "pixels", "IMAGE");
  link(b, "vae", "VAE");
  b.output("LATENT");
  return b;
}
B vae_decode_tiled(vkd::Plugin& p) {
  B b = p.node("VAEDecodeTiled");
  b.display_name("VAE Decode (Tiled)").category("_for_testing");
  link(b, "samples", "LATENT");
  link(b, "vae", "VAE");
  int_in(b, "tile_size", 512, 64, 4096, 32);
  int_in(b, "overlap", 64, 0, 4096, 32);
  int_in(b, "temporal_size", 64, 8, 4096, 4, "Only used for video VAEs: Amount of frames to decode at a time.");
  int_in(b, "temporal_overlap", 8, 4, 4096, 4, "Only used for video VAEs: Amount of frames to overlap.");
  b.output("IMAGE");
  return b;
}
B vae_encode_tiled(vkd::Plugin& p) {
  B b = p.node("VAEEncodeTiled");
  b.display_name("VAE Encode (Tiled)").category("_for_testing");
  link(b, "pixels", "IMAGE");
  link(b, "vae", "VAE");
  int_in(b, "tile_size", 512, 64, 4096, 64);
  int_in(b, "overlap", 64, 0, 4096, 32);
  int_in(b, "temporal_size", 64, 8, 4096, 4, "Only used for video VAEs: Amount of frames to encode at a time.");
  int_in(b, "temporal_overlap", 8, 4, 4096, 4, "Only used for video VAEs: Amount of frames to overlap.");
  b.output("LATENT");
  return b;
}
B vae_encode_for_inpaint(vkd::Plugin& p) {
  B b = p.node("VAEEncodeForInpaint");
  b.display_name("VAE Encode (for Inpainting)").category("latent/inpaint");
  link(b, "pixels", "IMAGE");
  link(b, "vae", "VAE");
  link(b, "mask", "MASK");
  int_in(b, "grow_mask_by", 6, 0, 64, 1);
  b.output("LATENT");
  return b;
}
B save_image(vkd::Plugin& p) {
  B b = p.node("SaveImage");
  b.display_name("Save Image").category("image").description("Saves the input images to your ComfyUI output directory.");
  link(b, "images", "IMAGE", "The images to save.");
  b.input("filename_prefix", "STRING", VKD_INPUT_REQUIRED, [](VkdInputDecl& d) {
     d.flags = VKD_INPUT_FLAG_DEFAULT;
     d.string_default = "ComfyUI";
   }).tooltip("The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% "
              "or %Empty Latent Image.width% to include values from nodes.");
  b.input("prompt", "PROMPT", VKD_INPUT_HIDDEN).input("extra_pnginfo", "EXTRA_PNGINFO", VKD_INPUT_HIDDEN);
  b.output_node();
  return b;
}
B load_image(vkd::Plugin& p) {
  B b = p.node("LoadImage");
  b.display_name("Load Image").category("image");
  folder_combo(b, "image", "input", nullptr, "\"image_upload\": true");
  b.output("IMAGE").output("MASK");
  // VALIDATE_INPUTS(image): the file must exist inside the input folder.
  b.validate({"image"}, [](vkd::Context& c) -> std::string {
    std::string image = c.get_string("image");
    return input_file_exists(image) ? "" : "Invalid image file: " + image;
  });
  return b;
}
B lora_loader(vkd::Plugin& p) {
  B b = p.node("LoraLoader");
  b.display_name("Load LoRA").category("loaders").description(
      "LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as "
      "applying styles. Multiple LoRA nodes can be linked together.");
  link(b, "model", "MODEL", "The diffusion model the LoRA will be applied to.");
  link(b, "clip", "CLIP", "The CLIP model the LoRA will be applied to.");
  folder_combo(b, "lora_name", "loras", "The name of the LoRA.");
  float_in(b, "strength_model", 1.0, -100.0, 100.0, 0.01, 0,
           "How strongly to modify the diffusion model. This value can be negative.");
  float_in(b, "strength_clip", 1.0, -100.0, 100.0, 0.01, 0,
           "How strongly to modify the CLIP model. This value can be negative.");
  b.output("MODEL").output("CLIP");
  return b;
}
B conditioning_average(vkd::Plugin& p) {
  B b = p.node("ConditioningAverage");
  b.display_name("ConditioningAverage").category("conditioning");
  link(b, "conditioning_to", "CONDITIONING");
  link(b, "conditioning_from", "CONDITIONING");
  float_in(b, "conditioning_to_strength", 1.0, 0.0, 1.0, 0.01);
  b.output("CONDITIONING");
  return b;
}
B conditioning_combine(vkd::Plugin& p) {
  B b = p.node("ConditioningCombine");
  b.display_name("Conditioning (Combine)").category("conditioning");
  link(b, "conditioning_1", "CONDITIONING");
  link(b, "conditioning_2", "CONDITIONING");
  b.output("CONDITIONING");
  return b;
}
B conditioning_concat(vkd::Plugin& p) {
  B b = p.node("ConditioningConcat");
  b.display_name("Conditioning (Concat)").category("conditioning");
  link(b, "conditioning_to", "CONDITIONING");
  link(b, "conditioning_from", "CONDITIONING");
  b.output("CONDITIONING");
  return b;
}
B conditioning_set_area(vkd::Plugin& p) {
  B b = p.node("ConditioningSetArea");
  b.display_name("Conditioning (Set Area)").category("conditioning");
  link(b, "conditioning", "CONDITIONING");
  int_in(b, "width", 64, 64, kMaxResolution, 8);
  int_in(b, "height", 64, 64, kMaxResolution, 8);
  int_in(b, "x", 0, 0, kMaxResolution, 8);
  int_in(b, "y", 0, 0, kMaxResolution, 8);
  float_in(b, "strength", 1.0, 0.0, 10.0, 0.01);
  b.output("CONDITIONING");
  return b;
}
B conditioning_set_timestep_range(vkd::Plugin& p) {
  B b = p.node("ConditioningSetTimestepRange");
  b.display_name("ConditioningSetTimestepRange").category("advanced/conditioning");
  link(b, "conditioning", "CONDITIONING");
  float_in(b, "start", 0.0, 0.0, 1.0, 0.001);
  float_in(b, "end", 1.0, 0.0, 1.0, 0.001);
  b.output("CONDITIONING");
  return b;
}
B conditioning_zero_out(vkd::Plugin& p) {
  B b = p.node("ConditioningZeroOut");
  b.display_name("ConditioningZeroOut").category("advanced/conditioning");
  link(b, "conditioning", "CONDITIONING");
  b.output("CONDITIONING");
  return b;
}
static B freeu_common(vkd::Plugin& p, const char* name, double b1, double b2) {
  B b = p.node(name);
  b.display_name(name).category("model_patches/unet");
  link(b, "model", "MODEL");
  float_in(b, "b1", b1, 0.0, 10.0, 0.01);
  float_in(b, "b2", b2, 0.0, 10.0, 0.01);
  float_in(b, "s1", 0.9, 0.0, 10.0, 0.01);
  float_in(b, "s2", 0.2, 0.0, 10.0, 0.01);
  b.output("MODEL");
  return b;
}
B freeu(vkd::Plugin& p) { return freeu_common(p, "FreeU", 1.1, 1.2); }
B freeu_v2(vkd::Plugin& p) { return freeu_common(p, "FreeU_V2", 1.3, 1.4); }
B latent_upscale(vkd::Plugin& p) {
  B b = p.node("LatentUpscale");
  b.display_name("Upscale Latent").category("latent");
  link(b, "samples", "LATENT");
  combo(b, "upscale_method", kLatentUpscaleMethods);
  int_in(b, "width", 512, 0, kMaxResolution, 8);
  int_in(b, "height", 512, 0, kMaxResolution, 8);
  combo(b, "crop", kCrop);
  b.output("LATENT");
  return b;
}
B latent_upscale_by(vkd::Plugin& p) {
  B b = p.node("LatentUpscaleBy");
  b.display_name("Upscale Latent By").category("latent");
  link(b, "samples", "LATENT");
  combo(b, "upscale_method", kLatentUpscaleMethods);
  float_in(b, "scale_by", 1.5, 0.01, 8.0, 0.01);
  b.output("LATENT");
  return b;
}
B latent_from_batch(vkd::Plugin& p) {
  B b = p.node("LatentFromBatch");
  b.display_name("Latent From Batch").category("latent/batch");
  link(b, "samples", "LATENT");
  int_in(b, "batch_index", 0, 0, 63);
  int_in(b, "length", 1, 1, 64);
  b.output("LATENT");
  return b;
}
B repeat_latent_batch(vkd::Plugin& p) {
  B b = p.node("RepeatLatentBatch");
  b.display_name("Repeat Latent Batch").category("latent/batch");
  link(b, "samples", "LATENT");
  int_in(b, "amount", 1, 1, 64);
  b.output("LATENT");
  return b;
}
B set_latent_noise_mask(vkd::Plugin& p) {
  B b = p.node("SetLatentNoiseMask");
  b.display_name("Set Latent Noise Mask").category("latent/inpaint");
  link(b, "samples", "LATENT");
  link(b, "mask", "MASK");
  b.output("LATENT");
  return b;
}
B image_scale(vkd::Plugin& p) {
  B b = p.node("ImageScale");
  b.display_name("Upscale Image").category("image/upscaling");
  link(b, "image", "IMAGE");
  combo(b, "upscale_method", kImageUpscaleMethods);
  int_in(b, "width", 512, 0, kMaxResolution, 1);
  int_in(b, "height", 512, 0, kMaxResolution, 1);
  combo(b, "crop", kCrop);
  b.output("IMAGE");
  return b;
}
B image_resize_plus(vkd::Plugin& p) {
  B b = p.node("ImageResize+");
  b.display_name("🔧 Image Resize").category("essentials/image manipulation");
  link(b, "image", "IMAGE");
  int_in(b, "width", 512, 0, kMaxResolution, 1);
  int_in(b, "height", 512, 0, kMaxResolution, 1);
  combo(b, "interpolation", {"nearest", "bilinear", "bicubic", "area", "nearest-exact", "lanczos"});
  combo(b, "method", {"stretch", "keep proportion", "fill / crop", "pad"});
  combo(b, "condition", {"always", "downscale if bigger", "upscale if smaller", "if bigger area", "if smaller area"});
  int_in(b, "multiple_of", 0, 0, 512, 1);
  b.output("IMAGE", "IMAGE").output("INT", "width").output("INT", "height");
  return b;
}

B vae_loader(vkd::Plugin& p) {
  B b = p.node("VAELoader");
  b.display_name("Load VAE").category("loaders");
  folder_combo(b, "vae_name", "vae");
  b.output("VAE");
  return b;
}
B lora_loader_model_only(vkd::Plugin& p) {
  B b = p.node("LoraLoaderModelOnly");
  b.display_name("LoraLoaderModelOnly").category("loaders").description(
      "LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as "
      "applying styles. Multiple LoRA nodes can be linked together.");
  link(b, "model", "MODEL");
  folder_combo(b, "lora_name", "loras");
  float_in(b, "strength_model", 1.0, -100.0, 100.0, 0.01);
  b.output("MODEL");
  return b;
}
B conditioning_set_mask(vkd::Plugin& p) {
  B b = p.node("ConditioningSetMask");
  b.display_name("Conditioning (Set Mask)").category("conditioning");
  link(b, "conditioning", "CONDITIONING");
  link(b, "mask", "MASK");
  float_in(b, "strength", 1.0, 0.0, 10.0, 0.01);
  combo(b, "set_cond_area", {"default", "mask bounds"});
  b.output("CONDITIONING");
  return b;
}
B load_image_mask(vkd::Plugin& p) {
  B b = p.node("LoadImageMask");
  b.display_name("Load Image (as Mask)").category("mask");
  folder_combo(b, "image", "input", nullptr, "\"image_upload\": true");
  combo(b, "channel", {"alpha", "red", "green", "blue"});
  b.output("MASK");
  b.validate({"image"}, [](vkd::Context& c) -> std::string {
    std::string image = c.get_string("image");
    return input_file_exists(image) ? "" : "Invalid image file: " + image;
  });
  return b;
}
B preview_image(vkd::Plugin& p) {
  B b = p.node("PreviewImage");
  b.display_name("Preview Image").category("image").description("Saves the input images to your ComfyUI output directory.");
  link(b, "images", "IMAGE");
  b.input("prompt", "PROMPT", VKD_INPUT_HIDDEN).input("extra_pnginfo", "EXTRA_PNGINFO", VKD_INPUT_HIDDEN);
  b.output_node();
  return b;
}
B image_scale_by(vkd::Plugin& p) {
  B b = p.node("ImageScaleBy");
  b.display_name("Upscale Image By").category("image/upscaling");
  link(b, "image", "IMAGE");
  combo(b, "upscale_method", kImageUpscaleMethods);
  float_in(b, "scale_by", 1.0, 0.01, 8.0, 0.01);
  b.output("IMAGE");
  return b;
}
B image_invert(vkd::Plugin& p) {
  B b = p.node("ImageInvert");
  b.display_name("Invert Image").category("image");
  link(b, "image", "IMAGE");
  b.output("IMAGE");
  return b;
}
B image_batch(vkd::Plugin& p) {
  B b = p.node("ImageBatch");
  b.display_name("Batch Images").category("image");
  link(b, "image1", "IMAGE");
  link(b, "image2", "IMAGE");
  b.output("IMAGE");
  return b;
}

bool input_file_exists(const std::string& image) {
  auto* paths = vkd::service<VkdPathsService>(VKD_SERVICE_PATHS);
  const char* dir = paths ? paths->directory(vkd::host(), "input") : nullptr;
  namespace fs = std::filesystem;
  fs::path rel(image);
  bool escapes = rel.is_absolute() || image.empty();
  for (const auto& part : rel) escapes = escapes || part == "..";
  std::error_code ec;
  return dir && !escapes && fs::is_regular_file(fs::path(dir) / rel, ec);
}

void declare_all(vkd::Plugin& p) {
  checkpoint_loader_simple(p);
  clip_text_encode(p);
  clip_set_last_layer(p);
  ksampler(p);
  ksampler_advanced(p);
  empty_latent_image(p);
  vae_decode(p);
  vae_encode(p);
  vae_decode_tiled(p);
  vae_encode_tiled(p);
  vae_encode_for_inpaint(p);
  save_image(p);
  load_image(p);
  lora_loader(p);
  conditioning_average(p);
  conditioning_combine(p);
  conditioning_concat(p);
  conditioning_set_area(p);
  conditioning_set_timestep_range(p);
  conditioning_zero_out(p);
  freeu(p);
  freeu_v2(p);
  latent_upscale(p);
  latent_upscale_by(p);
  latent_from_batch(p);
  repeat_latent_batch(p);
  set_latent_noise_mask(p);
  image_scale(p);
  image_resize_plus(p);
  vae_loader(p);
  lora_loader_model_only(p);
  conditioning_set_mask(p);
  load_image_mask(p);
  preview_image(p);
  image_scale_by(p);
  image_invert(p);
  image_batch(p);
}

}  // namespace vkdream::comfy_schemas
