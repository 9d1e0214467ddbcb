// ComfyUI's node schemas (class names, input names, types, defaults, ranges, combo lists, tooltips, outputs)
// for the SD1.5 node set, declared through plugin.hpp without execute functions: the node packs in plugins/
// attach execute() to them, and the validation tests declare them alone.
#pragma once

#include <string>
#include <vector>

#include "vkdream/plugin.hpp"

namespace vkdream::comfy_schemas {

extern const std::vector<std::string> kSamplers;    // comfy.samplers.KSampler.SAMPLERS (44)
extern const std::vector<std::string> kSchedulers;  // comfy.samplers.KSampler.SCHEDULERS (9)

// Declares every schema below into p. Model and input file combos are dynamic: they list the host's
// "checkpoints", "loras" and "input" folders through the vkd.paths service.
void declare_all(vkd::Plugin& p);

// One node each (returns the builder so a plugin can add .execute(...)).
vkd::NodeBuilder checkpoint_loader_simple(vkd::Plugin& p);
vkd::NodeBuilder clip_text_encode(vkd::Plugin& p);
vkd::NodeBuilder clip_set_last_layer(vkd::Plugin& p);
vkd::NodeBuilder ksampler(vkd::Plugin& p);
vkd::NodeBuilder ksampler_advanced(vkd::Plugin& p);
vkd::NodeBuilder empty_latent_image(vkd::Plugin& p);
vkd::NodeBuilder vae_decode(vkd::Plugin& p);
vkd::NodeBuilder vae_encode(vkd::Plugin& p);
vkd::NodeBuilder vae_decode_tiled(vkd::Plugin& p);
vkd::NodeBuilder vae_encode_tiled(vkd::Plugin& p);
vkd::NodeBuilder vae_encode_for_inpaint(vkd::Plugin& p);
vkd::NodeBuilder save_image(vkd::Plugin& p);
vkd::NodeBuilder load_image(vkd::Plugin& p);
vkd::NodeBuilder lora_loader(vkd::Plugin& p);
vkd::NodeBuilder conditioning_average(vkd::Plugin& p);
vkd::NodeBuilder conditioning_combine(vkd::Plugin& p);
vkd::NodeBuilder conditioning_concat(vkd::Plugin& p);
vkd::NodeBuilder conditioning_set_area(vkd::Plugin& p);
vkd::NodeBuilder conditioning_set_timestep_range(vkd::Plugin& p);
vkd::NodeBuilder conditioning_zero_out(vkd::Plugin& p);
vkd::NodeBuilder freeu(vkd::Plugin& p);
vkd::NodeBuilder freeu_v2(vkd::Plugin& p);
vkd::NodeBuilder latent_upscale(vkd::Plugin& p);
vkd::NodeBuilder latent_upscale_by(vkd::Plugin& p);
vkd::NodeBuilder latent_from_batch(vkd::Plugin& p);
vkd::NodeBuilder repeat_latent_batch(vkd::Plugin& p);
vkd::NodeBuilder set_latent_noise_mask(vkd::Plugin& p);
vkd::NodeBuilder image_scale(vkd::Plugin& p);
vkd::NodeBuilder image_resize_plus(vkd::Plugin& p);  // ComfyUI_essentials "ImageResize+"
vkd::NodeBuilder vae_loader(vkd::Plugin& p);
vkd::NodeBuilder lora_loader_model_only(vkd::Plugin& p);
vkd::NodeBuilder conditioning_set_mask(vkd::Plugin& p);
vkd::NodeBuilder load_image_mask(vkd::Plugin& p);
vkd::NodeBuilder preview_image(vkd::Plugin& p);
vkd::NodeBuilder image_scale_by(vkd::Plugin& p);
vkd::NodeBuilder image_invert(vkd::Plugin& p);
vkd::NodeBuilder image_batch(vkd::Plugin& p);

// LoadImage's VALIDATE_INPUTS: `image` names a regular file inside the host's input folder (no escaping it).
bool input_file_exists(const std::string& image);

}  // namespace vkdream::comfy_schemas
