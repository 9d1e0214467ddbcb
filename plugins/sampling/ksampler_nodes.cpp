// KSampler and KSamplerAdvanced (nodes.py common_ksampler): the MODEL's UNet with its patches as the eps
// function, ComfyUI's conditioning semantics, per-step progress and the interrupt flag.
#include <cstdlib>

#include "pack_util.h"
#include "sampling/ksampler.h"

namespace vkdream::packs::sampling_nodes {

namespace {

// Which generator the stochastic samplers' per-step noise reproduces: VKDREAM_STEP_NOISE=cpu|cuda
// (ComfyUI on the CPU, the default and what the goldens pin; or ComfyUI on an NVIDIA GPU), with
// VKDREAM_CUDA_SM_COUNT / VKDREAM_CUDA_THREADS_PER_SM for that GPU. Read on every run.
void set_step_noise(sampling::SampleOptions& opt) {
  sampling::StepNoiseSetting st;
  try {
    st = sampling::parse_step_noise_setting(std::getenv("VKDREAM_STEP_NOISE"), std::getenv("VKDREAM_CUDA_SM_COUNT"),
                                            std::getenv("VKDREAM_CUDA_THREADS_PER_SM"));
  } catch (const sampling::SamplerError& e) {
    throw vkd::Error(e.what(), "ValueError", VKD_ERROR_INVALID_ARGUMENT);
  }
  opt.noise_rule = st.rule;
  opt.cuda_device = st.cuda_device;
}

void run(vkd::Context& c, sampling::KSamplerRequest req) {
  const payload::Model& model = model_in(c, "model");
  const payload::Latent& latent = latent_in(c, "latent_image");
  req.cfg = c.get_float("cfg");
  req.steps = int(c.get_int("steps"));
  req.sampler = c.get_string("sampler_name");
  req.scheduler = c.get_string("scheduler");
  req.noise_mask = latent.noise_mask;
  req.batch_index = latent.batch_index;
  std::string why = sampling::sampler_unsupported_reason(req.sampler);
  if (!why.empty()) throw vkd::Error(why, "NotImplementedError", VKD_ERROR_UNSUPPORTED);

  std::shared_ptr<const model::UNet> unet = model.unet;
  model::UNetPatches patches = model.patches;
  sampling::EpsFn eps = [unet, patches](vk::Stream& s, const Tensor& x, const std::vector<float>& t,
                                        const Tensor& ctx) { return unet->forward(s, x, t, ctx, patches); };
  sampling::SampleOptions opt;
  set_step_noise(opt);
  opt.interrupted = [&c] { return c.interrupted(); };
  opt.on_step = [&c](const sampling::StepInfo& st) { c.progress(uint64_t(st.step + 1), uint64_t(st.total)); };

  NodeStream ns;
  Tensor out;
  try {
    out = sampling::common_ksampler(ns, eps, *model.sampling, cond_in(c, "positive").entries,
                                    cond_in(c, "negative").entries, latent.samples, req, opt);
  } catch (const sampling::Interrupted&) {
    throw vkd::Interrupted();
  } catch (const sampling::SamplerError& e) {
    throw vkd::Error(e.what(), "ValueError", VKD_ERROR_INVALID_ARGUMENT);
  }
  ns.s.submit();
  payload::Latent result = latent;
  result.samples = out;
  set_latent(c, 0, std::move(result));
}

}  // namespace

void ksampler(vkd::Context& c) {
  sampling::KSamplerRequest req;
  req.seed = c.get_uint("seed");
  req.denoise = c.get_float("denoise");
  run(c, req);
}

void ksampler_advanced(vkd::Context& c) {
  sampling::KSamplerRequest req;
  req.seed = c.get_uint("noise_seed");
  req.add_noise = c.get_string("add_noise") != "disable";
  req.force_full_denoise = c.get_string("return_with_leftover_noise") != "enable";
  req.start_step = int(c.get_int("start_at_step"));
  req.last_step = int(c.get_int("end_at_step"));
  run(c, req);
}

}  // namespace vkdream::packs::sampling_nodes
