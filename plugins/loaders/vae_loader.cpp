// VAELoader: a standalone SD1.x VAE file (keys encoder.* / decoder.*, optionally under first_stage_model.), or
// a whole checkpoint whose VAE is used.
#include "loaders.h"
#include "model/safetensors.h"
#include "model/weights.h"
#include "pack_util.h"

namespace vkdream::packs::loaders {

void vae_loader(vkd::Context& c) {
  std::string path = model_file_path("vae", c.get_string("vae_name"));
  auto file = model::SafetensorsFile::open(path);
  std::string prefix = file->find(std::string(model::VAE::kPrefix) + "encoder.conv_in.weight") ? model::VAE::kPrefix : "";
  const model::TensorInfo* conv_in = file->find(prefix + "encoder.conv_in.weight");
  if (!conv_in || conv_in->shape.size() != 4)
    value_error("'" + c.get_string("vae_name") + "' is not an SD1.x VAE (no encoder.conv_in.weight)");
  model::SD15VAEConfig cfg;
  cfg.ch = int(conv_in->shape[0]);
  if (const model::TensorInfo* q = file->find(prefix + "encoder.mid.attn_1.q.weight"))
    cfg.attn_linear = q->shape.size() == 2;
  NodeStream ns;
  auto vae = std::make_shared<model::VAE>(cfg, model::Weights(ns, *file, prefix, core().weight_dtype()));
  ns.s.submit();
  uint64_t bytes = vae->weights().bytes();
  set_vae(c, 0, payload::Vae{vae}, bytes);
}

}  // namespace vkdream::packs::loaders
