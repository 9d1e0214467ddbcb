#include <filesystem>

#include "loaders.h"
#include "model/sd15_checkpoint.h"
#include "pack_util.h"

namespace vkdream::packs::loaders {

namespace fs = std::filesystem;

std::string model_file_path(const char* kind, const std::string& name) {
  auto* paths = vkd::service<VkdPathsService>(VKD_SERVICE_PATHS);
  const char* dir = paths ? paths->directory(vkd::host(), kind) : nullptr;
  if (!dir) value_error(std::string("no '") + kind + "' folder is configured");
  fs::path rel(name);
  bool escapes = rel.is_absolute() || name.empty();
  for (const auto& part : rel) escapes = escapes || part == "..";
  std::error_code ec;
  fs::path full = fs::path(dir) / rel;
  if (escapes || !fs::is_regular_file(full, ec)) value_error("no file '" + name + "' in the " + kind + " folder");
  return full.string();
}

void checkpoint_loader_simple(vkd::Context& c) {
  std::string path = model_file_path("checkpoints", c.get_string("ckpt_name"));
  NodeStream ns;
  model::SD15Models m = model::load_sd15_checkpoint(ns, path, core().weight_dtype());
  ns.s.submit();

  payload::Model model;
  model.config = m.config;
  model.base = model.unet = m.unet;
  model.sampling = std::make_shared<sampling::ModelSamplingDiscrete>();
  uint64_t unet_bytes = m.unet->weights().bytes();
  set_model(c, 0, std::move(model), unet_bytes);

  payload::Clip clip;
  clip.config = m.config;
  clip.base = clip.model = m.clip;
  auto* paths = vkd::service<VkdPathsService>(VKD_SERVICE_PATHS);
  const char* emb_dir = paths ? paths->directory(vkd::host(), "embeddings") : nullptr;
  clip.embeddings = std::make_shared<model::EmbeddingLibrary>(
      emb_dir ? std::vector<std::string>{emb_dir} : std::vector<std::string>{});
  uint64_t clip_bytes = m.clip->weights().bytes();
  set_clip(c, 1, std::move(clip), clip_bytes);

  uint64_t vae_bytes = m.vae->weights().bytes();
  set_vae(c, 2, payload::Vae{m.vae}, vae_bytes);
}

}  // namespace vkdream::packs::loaders
