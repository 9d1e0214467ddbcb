// LoraLoader / LoraLoaderModelOnly (comfy.sd.load_lora_for_models): a new MODEL (and CLIP) with the LoRA folded
// into the weights. A chain of loaders re-derives from the base weights with every LoRA of the chain, so the
// result is the same whatever order the cache evaluates them in, and the inputs stay untouched.
#include "loaders.h"
#include "model/lora.h"
#include "pack_util.h"

namespace vkdream::packs::loaders {

namespace {

std::vector<model::LoraRef> refs_of(const std::vector<payload::AppliedLora>& loras) {
  std::vector<model::LoraRef> refs;
  for (const auto& l : loras) refs.push_back({l.file.get(), l.strength});
  return refs;
}

void log_not_loaded(const model::LoraFile& f) {
  for (const auto& msg : f.not_loaded()) vkd::log(VKD_LOG_WARNING, msg, "LoraLoader");
}

payload::Model patched_model(vk::Stream& s, const payload::Model& in, std::shared_ptr<const model::LoraFile> f,
                             double strength) {
  payload::Model out = in;
  out.loras.push_back({std::move(f), strength});
  out.unet = model::apply_lora(s, *in.base, refs_of(out.loras));
  return out;
}

payload::Clip patched_clip(vk::Stream& s, const payload::Clip& in, std::shared_ptr<const model::LoraFile> f,
                           double strength) {
  payload::Clip out = in;
  out.loras.push_back({std::move(f), strength});
  out.model = model::apply_lora(s, *in.base, refs_of(out.loras));
  return out;
}

}  // namespace

void lora_loader(vkd::Context& c) {
  const payload::Model& model = model_in(c, "model");
  const payload::Clip& clip = clip_in(c, "clip");
  double sm = c.get_float("strength_model"), sc = c.get_float("strength_clip");
  // ComfyUI returns the inputs unchanged when both strengths are 0.
  VkdObject* mo = c.get_object("model");
  VkdObject* co = c.get_object("clip");
  if (sm == 0 && sc == 0) {
    mo->retain(mo);
    co->retain(co);
    c.set_object(0, mo);
    c.set_object(1, co);
    return;
  }
  std::shared_ptr<const model::LoraFile> file =
      model::LoraFile::open(model_file_path("loras", c.get_string("lora_name")), model.config);
  log_not_loaded(*file);
  NodeStream ns;
  if (sm != 0) {
    payload::Model m = patched_model(ns, model, file, sm);
    ns.s.submit();
    set_model(c, 0, std::move(m), model.unet->weights().bytes());
  } else {
    mo->retain(mo);
    c.set_object(0, mo);
  }
  if (sc != 0) {
    payload::Clip m = patched_clip(ns, clip, file, sc);
    ns.s.submit();
    set_clip(c, 1, std::move(m), clip.model->weights().bytes());
  } else {
    co->retain(co);
    c.set_object(1, co);
  }
}

void lora_loader_model_only(vkd::Context& c) {
  const payload::Model& model = model_in(c, "model");
  double sm = c.get_float("strength_model");
  VkdObject* mo = c.get_object("model");
  if (sm == 0) {
    mo->retain(mo);
    c.set_object(0, mo);
    return;
  }
  std::shared_ptr<const model::LoraFile> file =
      model::LoraFile::open(model_file_path("loras", c.get_string("lora_name")), model.config);
  log_not_loaded(*file);
  NodeStream ns;
  payload::Model m = patched_model(ns, model, file, sm);
  ns.s.submit();
  set_model(c, 0, std::move(m), model.unet->weights().bytes());
}

}  // namespace vkdream::packs::loaders
