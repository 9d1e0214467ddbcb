#include "sampling/cfg.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>

#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/layout.h"

namespace vkdream::sampling {
namespace {

using Area = std::array<int64_t, 4>;  // (h, w, y, x)

// get_area_and_mult's result for one entry at one model call.
struct Prepared {
  Tensor input_x;            // x cropped to the area [B, C, h, w]
  Tensor mult;               // weight [1 or B, 1, h, w]; undefined when unit
  bool unit = false;         // the weight is exactly 1 everywhere and covers all of x
  std::optional<Area> area;  // clamped to x; nullopt = all of x
  Tensor context;            // [B, L, D]
  int index = 0;             // which conds list
};

// repeat_to_batch_size along dim 0.
Tensor to_batch(vk::Stream& s, const Tensor& t, int64_t b) {
  const int64_t n = t.dim(0);
  if (n == b) return t;
  if (n > b) return ops::slice(s, t, 0, 0, b);
  std::vector<Tensor> parts(size_t((b + n - 1) / n), t);
  Tensor r = ops::concat(s, parts, 0);
  return r.dim(0) == b ? r : ops::slice(s, r, 0, 0, b);
}

Tensor crop(vk::Stream& s, const Tensor& t, const Area& a) {
  Tensor r = t;
  if (a[2] != 0 || a[0] != t.dim(2)) r = ops::slice(s, r, 2, a[2], a[2] + a[0]);
  if (a[3] != 0 || a[1] != t.dim(3)) r = ops::slice(s, r, 3, a[3], a[3] + a[1]);
  return r;
}

// get_area_and_mult; nullopt when the entry's timestep range excludes sigma.
std::optional<Prepared> prepare(vk::Stream& s, const ResolvedCond& c, const Tensor& x, float sigma, int index) {
  if (sigma > c.sigma_start || sigma < c.sigma_end) return std::nullopt;
  const int64_t b = x.dim(0), hh = x.dim(2), ww = x.dim(3);
  Prepared p;
  p.index = index;
  p.area = clamp_area(c, hh, ww);
  p.input_x = p.area ? crop(s, x, *p.area) : x;
  // The weight was computed by process_conds for this latent size; else compute it now.
  Tensor m = c.latent_h == hh && c.latent_w == ww ? c.mult : cond_mult(s, c, hh, ww);
  if (!m.defined()) {
    p.unit = true;
  } else {
    if (m.dim(0) > b) m = ops::slice(s, m, 0, 0, b);
    if (m.dim(0) != 1 && m.dim(0) != b) {
      if (b % m.dim(0) != 0)
        throw SamplerError("conditioning mask batch " + std::to_string(m.dim(0)) + " does not divide the batch " +
                           std::to_string(b));
      m = to_batch(s, m, b);
    }
    if (m.dtype() != x.dtype()) m = ops::cast(s, m, x.dtype());
    p.mult = m;
  }
  p.context = to_batch(s, c.cross_attn, b);
  return p;
}

// CONDCrossAttn.can_concat plus equal input shapes (can_concat_cond).
bool can_concat(const Prepared& a, const Prepared& b) {
  if (a.input_x.shape() != b.input_x.shape() || a.context.dtype() != b.context.dtype()) return false;
  const Shape &s1 = a.context.shape(), &s2 = b.context.shape();
  if (s1 == s2) return true;
  if (s1[0] != s2[0] || s1[2] != s2[2]) return false;
  return std::lcm(s1[1], s2[1]) / std::min(s1[1], s2[1]) <= 4;
}

// BaseModel.apply_model with EPS for one batch: x_in = x / sqrt(sigma^2 + 1), t = timestep(sigma),
// denoised = x - sigma * eps (the float32 formulas of model::eps_denoise).
Tensor eps_denoise(vk::Stream& s, const EpsFn& eps, const ModelSamplingDiscrete& ms, const Tensor& x, float sigma,
                   const Tensor& context) {
  const double c_in = double(1.0f / std::sqrt(sigma * sigma + 1.0f));
  Tensor x_in = ops::lincomb(s, {{c_in, &x}});
  std::vector<float> t(size_t(x.dim(0)), float(ms.timestep(sigma)));
  Tensor e = eps(s, x_in, t, context);
  if (!e.defined() || e.shape() != x.shape())
    throw SamplerError("the UNet returned " + (e.defined() ? e.str() : std::string("nothing")) + " for x " + x.str());
  return ops::lincomb(s, {{1.0, &x}, {-double(sigma), &e}});
}

struct Contribution {
  Tensor out;   // denoised for the entry's area [B, C, h, w]
  const Prepared* p;
};

Tensor weighted_average(vk::Stream& s, const std::vector<Contribution>& parts, const Tensor& x) {
  if (parts.empty()) return from_host(s, x.shape(), x.dtype(), std::vector<float>(size_t(x.numel()), 0.0f));
  if (parts.size() == 1 && parts[0].p->unit) return parts[0].out;  // (0 + d*1) / (1e-37 + 1) == d
  const int64_t hh = x.dim(2), ww = x.dim(3);
  Tensor acc, count, ones;
  for (const auto& part : parts) {
    Tensor m = part.p->mult;
    if (part.p->unit) {
      if (!ones.defined()) ones = from_host(s, {1, 1, hh, ww}, x.dtype(), std::vector<float>(size_t(hh * ww), 1.0f));
      m = ones;
    }
    Tensor om = part.p->unit ? part.out : ops::mul(s, part.out, m);
    if (part.p->area) {
      const Area& a = *part.p->area;
      if (a[0] != hh || a[1] != ww) {
        om = ops::pad2d(s, om, a[2], hh - a[2] - a[0], a[3], ww - a[3] - a[1]);
        m = ops::pad2d(s, m, a[2], hh - a[2] - a[0], a[3], ww - a[3] - a[1]);
      }
    }
    acc = acc.defined() ? ops::lincomb(s, {{1.0, &acc}, {1.0, &om}}) : om;
    count = count.defined() ? ops::add(s, count, m) : ops::lincomb(s, {{1.0, &m}}, 1e-37);
  }
  return ops::div(s, acc, count);
}

}  // namespace

std::vector<Tensor> calc_cond_batch(vk::Stream& s, const EpsFn& eps, const ModelSamplingDiscrete& ms,
                                    const std::vector<const std::vector<ResolvedCond>*>& conds, const Tensor& x,
                                    float sigma, const CondBatchOptions& opt) {
  if (x.rank() != 4) throw SamplerError("calc_cond_batch: x must be [B, C, H, W], got " + x.str());
  std::vector<std::unique_ptr<Prepared>> to_run;
  for (size_t i = 0; i < conds.size(); ++i) {
    if (!conds[i]) continue;
    for (const auto& c : *conds[i])
      if (auto p = prepare(s, c, x, sigma, int(i))) to_run.push_back(std::make_unique<Prepared>(std::move(*p)));
  }
  std::vector<std::unique_ptr<Prepared>> done;  // keeps the Prepared alive for the contributions
  std::vector<std::vector<Contribution>> parts(conds.size());
  while (!to_run.empty()) {
    // Everything that can share a batch with the first entry, last first (ComfyUI's order).
    std::vector<size_t> idx;
    for (size_t i = 0; i < to_run.size(); ++i)
      if (can_concat(*to_run[i], *to_run[0])) idx.push_back(i);
    std::reverse(idx.begin(), idx.end());
    if (opt.max_batch_entries > 0) {
      size_t n = idx.size();
      for (size_t k = 1; k <= idx.size(); ++k)
        if ((n = idx.size() / k) <= size_t(opt.max_batch_entries)) break;
      idx.resize(std::max<size_t>(1, n));
    }
    std::vector<std::unique_ptr<Prepared>> batch;
    for (size_t i : idx) {  // descending indices: erasing keeps the others valid
      batch.push_back(std::move(to_run[i]));
      to_run.erase(to_run.begin() + long(i));
    }
    int64_t len = 1;
    for (auto& p : batch) len = std::lcm(len, p->context.dim(1));
    std::vector<Tensor> xs, ctxs;
    for (auto& p : batch) {
      xs.push_back(p->input_x);
      Tensor c = p->context;
      if (c.dim(1) != len) c = ops::concat(s, std::vector<Tensor>(size_t(len / c.dim(1)), c), 1);
      ctxs.push_back(c);
    }
    Tensor xin = xs.size() == 1 ? xs[0] : ops::concat(s, xs, 0);
    Tensor ctx = ctxs.size() == 1 ? ctxs[0] : ops::concat(s, ctxs, 0);
    if (opt.on_model_call) opt.on_model_call(int(batch.size()), xin.shape());
    Tensor den = eps_denoise(s, eps, ms, xin, sigma, ctx);
    const int64_t b = x.dim(0);
    for (size_t o = 0; o < batch.size(); ++o) {
      Tensor out = batch.size() == 1 ? den : ops::slice(s, den, 0, int64_t(o) * b, int64_t(o + 1) * b);
      parts[size_t(batch[o]->index)].push_back({out, batch[o].get()});
      done.push_back(std::move(batch[o]));
    }
  }
  std::vector<Tensor> outs;
  for (size_t i = 0; i < conds.size(); ++i) outs.push_back(weighted_average(s, parts[i], x));
  return outs;
}

Denoiser guided_denoiser(EpsFn eps, const ModelSamplingDiscrete& ms, Conditioning positive, Conditioning negative,
                         double cfg, CondBatchOptions opt) {
  struct State {
    EpsFn eps;
    Conditioning positive, negative;
    double cfg;
    CondBatchOptions opt;
    int64_t h = -1, w = -1;
    ResolvedConds resolved;
  };
  auto st = std::make_shared<State>(State{std::move(eps), std::move(positive), std::move(negative), cfg, std::move(opt)});
  return [st, &ms](vk::Stream& s, const Tensor& x, float sigma, Tensor* uncond_out) -> Tensor {
    if (x.dim(2) != st->h || x.dim(3) != st->w) {  // process_conds, once per latent size
      st->resolved = process_conds(s, ms, st->positive, st->negative, x.dim(2), x.dim(3));
      st->h = x.dim(2), st->w = x.dim(3);
    }
    // math.isclose(cfg, 1.0): the uncond side is skipped unless a CFG++ sampler needs it.
    const bool cfg1 = std::abs(st->cfg - 1.0) <= 1e-9 * std::max(std::abs(st->cfg), 1.0);
    const bool need_uncond = !cfg1 || uncond_out != nullptr;
    auto out = calc_cond_batch(s, st->eps, ms, {&st->resolved.positive, need_uncond ? &st->resolved.negative : nullptr},
                               x, sigma, st->opt);
    if (uncond_out) *uncond_out = out[1];
    if (st->cfg == 1.0) return out[0];  // uncond + (cond - uncond) * 1
    return ops::lincomb(s, {{1.0 - st->cfg, &out[1]}, {st->cfg, &out[0]}});  // uncond + (cond - uncond) * cfg
  };
}

EpsFn unet_eps(const model::UNet& unet) {
  return [&unet](vk::Stream& s, const Tensor& x_in, const std::vector<float>& t, const Tensor& ctx) {
    return unet.forward(s, x_in, t, ctx);
  };
}

Denoiser cfg_denoiser(const model::UNet& unet, const ModelSamplingDiscrete& ms, Guidance g) {
  Conditioning pos(1), neg(1);
  pos[0].cross_attn = g.cond;
  neg[0].cross_attn = g.uncond;
  return guided_denoiser(unet_eps(unet), ms, std::move(pos), std::move(neg), g.cfg);
}

}  // namespace vkdream::sampling
