#include "sampling/ksampler.h"

#include <stdexcept>
#include <string>

#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/resize.h"
#include "sampling/schedulers.h"
#include "sampling/torch_rng.h"

namespace vkdream::sampling {

std::optional<std::vector<float>> ksampler_request_sigmas(const ModelSamplingDiscrete& ms, const KSamplerRequest& req) {
  if (req.start_step < 0 || req.last_step < 0)
    throw SamplerError("start_step and last_step must be >= 0 (got " + std::to_string(req.start_step) + ", " +
                       std::to_string(req.last_step) + ")");
  std::vector<float> sig;
  try {
    sig = ksampler_sigmas(ms, req.scheduler, req.sampler, req.steps, req.denoise);
  } catch (const std::invalid_argument& e) {
    throw SamplerError(e.what());
  }
  const int64_t n = int64_t(sig.size());
  if (req.last_step < n - 1) {
    sig.resize(size_t(req.last_step + 1));
    if (req.force_full_denoise) sig.back() = 0.0f;
  }
  if (req.start_step < int64_t(sig.size()) - 1) {
    sig.erase(sig.begin(), sig.begin() + req.start_step);
    return sig;
  }
  return std::nullopt;
}

Tensor ksampler_noise(vk::Stream& s, const KSamplerRequest& req, const Shape& shape) {
  if (!req.add_noise) return from_host(s, shape, DType::F32, std::vector<float>(size_t(shape_numel(shape)), 0.0f));
  std::vector<int64_t> dims(shape.begin(), shape.end());
  std::vector<float> v;
  try {
    v = prepare_noise(req.seed, dims, req.batch_index.empty() ? nullptr : &req.batch_index);
  } catch (const std::invalid_argument& e) {
    throw SamplerError(e.what());
  }
  return from_host(s, shape, DType::F32, v);
}

Tensor prepare_noise_mask(vk::Stream& s, const Tensor& noise_mask, const Shape& shape) {
  if (shape.size() != 4) throw SamplerError("prepare_noise_mask: the latent must be [B, C, h, w]");
  if (noise_mask.rank() < 2) throw SamplerError("noise_mask must have at least 2 dims, got " + noise_mask.str());
  Tensor m = noise_mask.dtype() == DType::F32 ? noise_mask : ops::cast(s, noise_mask, DType::F32);
  const int64_t mh = m.dim(-2), mw = m.dim(-1);
  m = m.reshape({m.numel() / (mh * mw), 1, mh, mw});
  if (mh != shape[2] || mw != shape[3]) m = ops::resize(s, m, shape[2], shape[3], ops::ResizeMode::kBilinear);
  if (shape[1] > 1) m = ops::concat(s, std::vector<Tensor>(size_t(shape[1]), m), 1);
  const int64_t n = m.dim(0), b = shape[0];  // repeat_to_batch_size
  if (n > b) m = ops::slice(s, m, 0, 0, b);
  if (n < b) {
    m = ops::concat(s, std::vector<Tensor>(size_t((b + n - 1) / n), m), 0);
    if (m.dim(0) != b) m = ops::slice(s, m, 0, 0, b);
  }
  return m;
}

Denoiser inpaint_denoiser(Denoiser inner, Tensor mask, Tensor latent_image, Tensor noise) {
  struct State {
    Denoiser inner;
    Tensor mask, latent, noise;
    Tensor keep, latent_keep;  // 1 - mask, latent * (1 - mask)
  };
  auto st = std::make_shared<State>(State{std::move(inner), std::move(mask), std::move(latent_image), std::move(noise), {}, {}});
  if (st->mask.shape() != st->latent.shape() || st->noise.shape() != st->latent.shape())
    throw SamplerError("inpaint: mask " + st->mask.str() + ", latent " + st->latent.str() + " and noise " +
                       st->noise.str() + " must have one shape");
  return [st](vk::Stream& s, const Tensor& x, float sigma, Tensor* uncond) -> Tensor {
    if (!st->keep.defined()) {
      st->keep = ops::lincomb(s, {{-1.0, &st->mask}}, 1.0);
      st->latent_keep = ops::mul(s, st->latent, st->keep);
    }
    // x * m + (latent + noise * sigma) * (1 - m)   (EPS.scale_latent_inpaint = noise_scaling, no max denoise)
    Tensor noised = ops::lincomb(s, {{double(sigma), &st->noise}, {1.0, &st->latent}});
    Tensor xm = ops::mul(s, x, st->mask), nk = ops::mul(s, noised, st->keep);
    Tensor xin = ops::add(s, xm, nk);
    Tensor out = st->inner(s, xin, sigma, uncond);
    // out * m + latent * (1 - m)
    Tensor om = ops::mul(s, out, st->mask);
    return ops::add(s, om, st->latent_keep);
  };
}

Tensor common_ksampler(vk::Stream& s, EpsFn eps, const ModelSamplingDiscrete& ms, const Conditioning& positive,
                       const Conditioning& negative, const Tensor& latent, const KSamplerRequest& req,
                       const SampleOptions& opt, CondBatchOptions batch) {
  if (latent.rank() != 4 || latent.dtype() != DType::F32)
    throw SamplerError("common_ksampler: the latent must be an f32 [B, C, h, w] tensor, got " + latent.str());
  if (!is_sampler(req.sampler)) throw SamplerError("unknown sampler '" + req.sampler + "'");
  if (!is_scheduler(req.scheduler)) throw SamplerError("unknown scheduler '" + req.scheduler + "'");
  Tensor noise = ksampler_noise(s, req, latent.shape());
  auto sigmas = ksampler_request_sigmas(ms, req);
  if (!sigmas || sigmas->empty()) return latent;  // KSampler.sample / CFGGuider.sample return latent_image
  Denoiser model = guided_denoiser(std::move(eps), ms, positive, negative, req.cfg, std::move(batch));
  if (req.noise_mask) {
    Tensor mask = prepare_noise_mask(s, *req.noise_mask, latent.shape());
    Tensor latent_in = ops::lincomb(s, {{kSD15LatentScale, &latent}});  // process_latent_in
    Tensor inpaint_noise = noise;
    if (req.sampler == "ddim") {  // KSAMPLER inpaint_options random: randn from a seed + 1 generator
      TorchGenerator gen(req.seed + 1);
      inpaint_noise = from_host(s, latent.shape(), DType::F32, gen.randn(latent.numel()));
    }
    model = inpaint_denoiser(std::move(model), mask, latent_in, inpaint_noise);
  }
  SampleOptions o = opt;
  o.seed = req.seed;
  return ksampler_sample(s, req.sampler, model, latent, noise, *sigmas, ms, o);
}

}  // namespace vkdream::sampling
