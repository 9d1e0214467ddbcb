// Loading an SD1.x single-file checkpoint: validate the file, detect the architecture, upload the
// three networks' weights in the chosen storage dtype, and build CLIP, UNet and VAE.
#pragma once
#include <memory>
#include <string>

#include "model/clip_text_model.h"
#include "model/sd15_config.h"
#include "model/unet.h"
#include "model/vae.h"
#include "sampling/model_sampling.h"

namespace vkdream::model {

struct SD15Models {
  SD15Config config;
  std::shared_ptr<CLIPTextModel> clip;
  std::shared_ptr<UNet> unet;
  std::shared_ptr<VAE> vae;
};

// Throws SafetensorsError / SD15ConfigError naming the file and what is wrong.
SD15Models load_sd15_checkpoint(vk::Stream& s, const std::string& path, DType storage = DType::F16,
                                const SD15DetectOptions& options = {});

// ComfyUI's eps denoiser (BaseModel.apply_model with EPS): x_in = x / sqrt(sigma^2 + 1),
// t = model_sampling.timestep(sigma), denoised = x - sigma * eps; one sigma per batch row.
Tensor eps_denoise(vk::Stream& s, const UNet& unet, const sampling::ModelSamplingDiscrete& ms, const Tensor& x,
                   const std::vector<float>& sigmas, const Tensor& context);

}  // namespace vkdream::model
