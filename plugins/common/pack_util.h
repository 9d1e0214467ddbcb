// What every in-tree node pack needs: the core services (device, tokenizer) through the host, a stream for the
// node's GPU work, and typed access to the SD1.5 payloads (graph/sd_payloads.h) of inputs and outputs.
#pragma once

#include <string>
#include <utility>

#include "graph/core_services.h"
#include "graph/sd_payloads.h"
#include "vkdream/plugin.hpp"
#include "vulkan/stream.h"

namespace vkdream::packs {

inline graph::CoreServices& core() { return graph::core_services(vkd::host()); }

// A stream on the core's device; the node records its work and submits once (waits) before returning.
struct NodeStream {
  vk::Stream s;
  NodeStream() : s(core().context()) {}
  operator vk::Stream&() { return s; }
};

// Typed inputs.
inline const payload::Model& model_in(vkd::Context& c, std::string_view n) { return c.get<payload::Model>(n, payload::kModelTag); }
inline const payload::Clip& clip_in(vkd::Context& c, std::string_view n) { return c.get<payload::Clip>(n, payload::kClipTag); }
inline const payload::Vae& vae_in(vkd::Context& c, std::string_view n) { return c.get<payload::Vae>(n, payload::kVaeTag); }
inline const payload::Conditioning& cond_in(vkd::Context& c, std::string_view n) {
  return c.get<payload::Conditioning>(n, payload::kConditioningTag);
}
inline const payload::Latent& latent_in(vkd::Context& c, std::string_view n) { return c.get<payload::Latent>(n, payload::kLatentTag); }
inline const payload::Image& image_in(vkd::Context& c, std::string_view n) { return c.get<payload::Image>(n, payload::kImageTag); }
inline const payload::Mask& mask_in(vkd::Context& c, std::string_view n) { return c.get<payload::Mask>(n, payload::kMaskTag); }

// Typed outputs (the object's size feeds the cache's memory budget).
inline void set_model(vkd::Context& c, uint32_t i, payload::Model m, uint64_t bytes = 0) {
  c.set_object(i, vkd::make_object<payload::Model>("MODEL", payload::kModelTag, bytes, std::move(m)));
}
inline void set_clip(vkd::Context& c, uint32_t i, payload::Clip m, uint64_t bytes = 0) {
  c.set_object(i, vkd::make_object<payload::Clip>("CLIP", payload::kClipTag, bytes, std::move(m)));
}
inline void set_vae(vkd::Context& c, uint32_t i, payload::Vae m, uint64_t bytes = 0) {
  c.set_object(i, vkd::make_object<payload::Vae>("VAE", payload::kVaeTag, bytes, std::move(m)));
}
inline void set_conditioning(vkd::Context& c, uint32_t i, payload::Conditioning m) {
  uint64_t bytes = 0;
  for (const auto& e : m.entries) bytes += payload::bytes_of(e.cross_attn) + (e.mask ? payload::bytes_of(*e.mask) : 0);
  c.set_object(i, vkd::make_object<payload::Conditioning>("CONDITIONING", payload::kConditioningTag, bytes, std::move(m)));
}
inline void set_latent(vkd::Context& c, uint32_t i, payload::Latent m) {
  uint64_t bytes = payload::bytes_of(m.samples) + (m.noise_mask ? payload::bytes_of(*m.noise_mask) : 0);
  c.set_object(i, vkd::make_object<payload::Latent>("LATENT", payload::kLatentTag, bytes, std::move(m)));
}
inline void set_image(vkd::Context& c, uint32_t i, Tensor pixels) {
  uint64_t bytes = payload::bytes_of(pixels);
  c.set_object(i, vkd::make_object<payload::Image>("IMAGE", payload::kImageTag, bytes, payload::Image{std::move(pixels)}));
}
inline void set_mask(vkd::Context& c, uint32_t i, Tensor mask) {
  uint64_t bytes = payload::bytes_of(mask);
  c.set_object(i, vkd::make_object<payload::Mask>("MASK", payload::kMaskTag, bytes, payload::Mask{std::move(mask)}));
}

// A ValueError (ComfyUI's exception type for bad node inputs).
[[noreturn]] inline void value_error(const std::string& msg) {
  throw vkd::Error(msg, "ValueError", VKD_ERROR_INVALID_ARGUMENT);
}

}  // namespace vkdream::packs
