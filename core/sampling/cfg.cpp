#include "sampling/cfg.h"

#include <numeric>

#include "model/sd15_checkpoint.h"
#include "ops/elementwise.h"
#include "ops/layout.h"

namespace vkdream::sampling {
namespace {

// [1, L, D] repeated along tokens to `len` (a multiple of L) and along the batch to `batch`.
Tensor expand_context(vk::Stream& s, const Tensor& c, int64_t len, int64_t batch) {
  Tensor t = c;
  if (len != c.dim(1)) t = ops::concat(s, std::vector<Tensor>(size_t(len / c.dim(1)), c), 1);
  if (batch != 1) t = ops::concat(s, std::vector<Tensor>(size_t(batch), t), 0);
  return t;
}

}  // namespace

Denoiser cfg_denoiser(const model::UNet& unet, const ModelSamplingDiscrete& ms, Guidance g) {
  return [&unet, &ms, g](vk::Stream& s, const Tensor& x, float sigma, Tensor* uncond_out) -> Tensor {
    const int64_t b = x.dim(0);
    const bool need_uncond = g.cfg != 1.0 || uncond_out != nullptr;
    if (!need_uncond) {
      Tensor ctx = expand_context(s, g.cond, g.cond.dim(1), b);
      return model::eps_denoise(s, unet, ms, x, std::vector<float>(size_t(b), sigma), ctx);
    }
    const int64_t len = std::lcm(g.cond.dim(1), g.uncond.dim(1));
    Tensor ctx = ops::concat(s, {expand_context(s, g.cond, len, b), expand_context(s, g.uncond, len, b)}, 0);
    Tensor xx = ops::concat(s, {x, x}, 0);  // cond rows, then uncond rows: one UNet batch
    Tensor d = model::eps_denoise(s, unet, ms, xx, std::vector<float>(size_t(2 * b), sigma), ctx);
    Tensor dc = ops::slice(s, d, 0, 0, b), du = ops::slice(s, d, 0, b, 2 * b);  // copies: views may misalign
    if (uncond_out) *uncond_out = du;
    return ops::lincomb(s, {{1.0 - g.cfg, &du}, {g.cfg, &dc}});  // uncond + (cond - uncond) * cfg
  };
}

}  // namespace vkdream::sampling
