#include "model/sd15_checkpoint.h"

#include <cmath>

#include "model/safetensors.h"
#include "ops/elementwise.h"
#include "ops/layout.h"

namespace vkdream::model {

SD15Models load_sd15_checkpoint(vk::Stream& s, const std::string& path, DType storage,
                                const SD15DetectOptions& options) {
  auto file = SafetensorsFile::open(path);
  SD15Models m;
  m.config = detect_sd15_config(*file, options);
  m.clip = std::make_shared<CLIPTextModel>(m.config.clip, Weights(s, *file, CLIPTextModel::kPrefix, storage));
  m.unet = std::make_shared<UNet>(m.config.unet, Weights(s, *file, UNet::kPrefix, storage));
  m.vae = std::make_shared<VAE>(m.config.vae, Weights(s, *file, VAE::kPrefix, storage));
  return m;
}

Tensor eps_denoise(vk::Stream& s, const UNet& unet, const sampling::ModelSamplingDiscrete& ms, const Tensor& x,
                   const std::vector<float>& sigmas, const Tensor& context) {
  const int64_t b = x.dim(0);
  if (int64_t(sigmas.size()) != b)
    throw std::invalid_argument("eps_denoise: " + std::to_string(sigmas.size()) + " sigmas for a batch of " +
                                std::to_string(b));
  bool same = true;
  for (float sg : sigmas) same = same && sg == sigmas[0];
  std::vector<float> t;
  for (float sg : sigmas) t.push_back(float(ms.timestep(sg)));
  auto c_in = [](float sg) { return double(1.0f / std::sqrt(sg * sg + 1.0f)); };
  Tensor x_in;
  if (same) {
    Tensor xs = x;
    x_in = ops::lincomb(s, {{c_in(sigmas[0]), &xs}});
  } else {
    std::vector<Tensor> rows;
    for (int64_t i = 0; i < b; ++i) {
      Tensor xi = x.slice0(i, 1);
      rows.push_back(ops::lincomb(s, {{c_in(sigmas[size_t(i)]), &xi}}));
    }
    x_in = ops::concat(s, rows, 0);
  }
  Tensor eps = unet.forward(s, x_in, t, context);
  if (same) return ops::lincomb(s, {{1.0, &x}, {-double(sigmas[0]), &eps}});
  std::vector<Tensor> rows;
  for (int64_t i = 0; i < b; ++i) {
    Tensor xi = x.slice0(i, 1), ei = eps.slice0(i, 1);
    rows.push_back(ops::lincomb(s, {{1.0, &xi}, {-double(sigmas[size_t(i)]), &ei}}));
  }
  return ops::concat(s, rows, 0);
}

}  // namespace vkdream::model
