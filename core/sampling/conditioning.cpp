#include "sampling/conditioning.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/resize.h"

namespace vkdream::sampling {
namespace {

using Area = std::array<int64_t, 4>;  // (h, w, y, x)

// Python's round() on a double: half to even (the default FE_TONEAREST mode of nearbyint).
int64_t py_round(double v) { return int64_t(std::nearbyint(v)); }

// The mask as [Bm, 1, h, w] f32 at the latent size (bilinear, align_corners=False, as
// comfy.utils.common_upscale(..., 'bilinear', 'none') calls interpolate).
Tensor resolve_mask(vk::Stream& s, const Tensor& mask, int64_t h, int64_t w) {
  Tensor m = mask.dtype() == DType::F32 ? mask : ops::cast(s, mask, DType::F32);
  if (m.rank() == 2) m = m.reshape({1, 1, m.dim(0), m.dim(1)});
  else if (m.rank() == 3) m = m.reshape({m.dim(0), 1, m.dim(1), m.dim(2)});
  else if (!(m.rank() == 4 && m.dim(1) == 1))
    throw std::invalid_argument("conditioning mask must be [H, W] or [B, H, W], got " + mask.str());
  if (m.dim(2) != h || m.dim(3) != w) m = ops::resize(s, m, h, w, ops::ResizeMode::kBilinear);
  return m;
}

// get_mask_aabb of max_b |mask|, as ComfyUI's set_area_to_bounds uses it.
Area mask_bounds(vk::Stream& s, const Tensor& mask) {
  const int64_t b = mask.dim(0), h = mask.dim(2), w = mask.dim(3);
  std::vector<float> v = to_host(s, mask);
  int64_t y0 = h, y1 = -1, x0 = w, x1 = -1;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      float mx = 0.0f;
      for (int64_t i = 0; i < b; ++i) mx = std::max(mx, std::fabs(v[size_t((i * h + y) * w + x)]));
      if (mx != 0.0f) {
        y0 = std::min(y0, y), y1 = std::max(y1, y);
        x0 = std::min(x0, x), x1 = std::max(x1, x);
      }
    }
  if (y1 < 0) return {8, 8, 0, 0};  // all zero: the smallest area, a no-op anyway
  return {std::max<int64_t>(8, y1 - y0 + 1), std::max<int64_t>(8, x1 - x0 + 1), y0, x0};
}

ResolvedCond resolve(vk::Stream& s, const ModelSamplingDiscrete& ms, const CondEntry& c, int64_t h, int64_t w) {
  if (!c.cross_attn.defined() || c.cross_attn.rank() != 3)
    throw std::invalid_argument("conditioning entry needs a cross_attn [B, L, D] tensor");
  ResolvedCond r;
  r.cross_attn = c.cross_attn;
  r.strength = c.strength;
  r.mask_strength = c.mask_strength;
  if (c.area_percentage) {
    const auto& a = *c.area_percentage;
    r.area = Area{std::max<int64_t>(1, py_round(a[0] * double(h))), std::max<int64_t>(1, py_round(a[1] * double(w))),
                  py_round(a[2] * double(h)), py_round(a[3] * double(w))};
  } else if (c.area) {
    r.area = c.area;
  }
  if (c.mask) {
    r.mask = resolve_mask(s, *c.mask, h, w);
    if (c.set_area_to_bounds) r.area = mask_bounds(s, *r.mask);
  }
  if (r.area) {
    const auto& a = *r.area;
    if (a[0] <= 0 || a[1] <= 0 || a[2] < 0 || a[3] < 0)
      throw std::invalid_argument("conditioning area (h " + std::to_string(a[0]) + ", w " + std::to_string(a[1]) +
                                  ", y " + std::to_string(a[2]) + ", x " + std::to_string(a[3]) + ") is invalid");
  }
  r.sigma_start = float(percent_to_sigma(ms, c.start_percent));
  r.sigma_end = float(percent_to_sigma(ms, c.end_percent));
  r.mult = cond_mult(s, r, h, w);
  r.latent_h = h, r.latent_w = w;
  return r;
}

// Whether area a lies inside area b.
bool area_inside(const Area& a, const Area& b) {
  for (int i = 0; i < 2; ++i)
    if (a[size_t(2 + i)] < b[size_t(2 + i)]) return false;
  for (int i = 0; i < 2; ++i)
    if (a[size_t(i)] + a[size_t(2 + i)] > b[size_t(i)] + b[size_t(2 + i)]) return false;
  return true;
}

// create_cond_with_same_area_if_none: `c` is an entry of the other side.
void add_same_area(std::vector<ResolvedCond>& conds, const ResolvedCond& c) {
  if (!c.area) return;
  int smallest = -1;
  for (size_t i = 0; i < conds.size(); ++i) {
    const ResolvedCond& x = conds[i];
    if (x.area) {
      if (!area_inside(*c.area, *x.area)) continue;
      if (smallest < 0 || !conds[size_t(smallest)].area) {
        smallest = int(i);
      } else {
        const Area& sa = *conds[size_t(smallest)].area;
        if (sa[0] * sa[1] > (*x.area)[0] * (*x.area)[1]) smallest = int(i);
      }
    } else if (smallest < 0) {
      smallest = int(i);
    }
  }
  if (smallest < 0) return;
  const ResolvedCond& sm = conds[size_t(smallest)];
  if (sm.area && *sm.area == *c.area) return;
  ResolvedCond out = c;  // area, strength, mask and timestep range of c; the other side's embedding
  out.cross_attn = sm.cross_attn;
  conds.push_back(std::move(out));
}

// strength, feathered at the inner borders of the area, in float32 in ComfyUI's order (rows top,
// rows bottom, columns left, columns right; each factor a float32 of (1/rr) * (t+1)).
std::vector<float> feathered_mult(double strength, const Area& a, int64_t full_h, int64_t full_w) {
  const int64_t h = a[0], w = a[1];
  std::vector<float> m(size_t(h * w), float(strength));
  const int64_t size[2] = {h, w}, full[2] = {full_h, full_w};
  for (int d = 0; d < 2; ++d) {
    const int64_t rr = std::min<int64_t>(8, size[d] / 4), off = a[size_t(2 + d)];
    auto scale_line = [&](int64_t line, float f) {
      if (d == 0)
        for (int64_t x = 0; x < w; ++x) m[size_t(line * w + x)] *= f;
      else
        for (int64_t y = 0; y < h; ++y) m[size_t(y * w + line)] *= f;
    };
    if (off != 0)
      for (int64_t t = 0; t < rr; ++t) scale_line(t, float((1.0 / double(rr)) * double(t + 1)));
    if (size[d] + off < full[d])
      for (int64_t t = 0; t < rr; ++t) scale_line(size[d] - 1 - t, float((1.0 / double(rr)) * double(t + 1)));
  }
  return m;
}

}  // namespace

std::optional<Area> clamp_area(const ResolvedCond& c, int64_t h, int64_t w) {
  if (!c.area) return std::nullopt;
  Area a = *c.area;
  a[0] = std::min(h - a[2], a[0]);
  a[1] = std::min(w - a[3], a[1]);
  if (a[0] <= 0 || a[1] <= 0)
    throw std::invalid_argument("conditioning area at (y " + std::to_string(a[2]) + ", x " + std::to_string(a[3]) +
                                ") lies outside the latent of " + std::to_string(h) + " x " + std::to_string(w) +
                                " cells");
  return a;
}

Tensor cond_mult(vk::Stream& s, const ResolvedCond& c, int64_t h, int64_t w) {
  auto a = clamp_area(c, h, w);
  if (c.mask) {
    Tensor m = *c.mask;  // [Bm, 1, h, w]
    if (a) {
      if ((*a)[2] != 0 || (*a)[0] != h) m = ops::slice(s, m, 2, (*a)[2], (*a)[2] + (*a)[0]);
      if ((*a)[3] != 0 || (*a)[1] != w) m = ops::slice(s, m, 3, (*a)[3], (*a)[3] + (*a)[1]);
    }
    if (c.mask_strength != 1.0) m = ops::lincomb(s, {{c.mask_strength, &m}});
    if (c.strength != 1.0) m = ops::lincomb(s, {{c.strength, &m}});
    return m;
  }
  if (!a && c.strength == 1.0) return Tensor();
  Area full = a ? *a : Area{h, w, 0, 0};
  std::vector<float> m = a ? feathered_mult(c.strength, *a, h, w) : std::vector<float>(size_t(h * w), float(c.strength));
  return from_host(s, {1, 1, full[0], full[1]}, DType::F32, m);
}

double percent_to_sigma(const ModelSamplingDiscrete& ms, double percent) {
  if (percent <= 0.0) return 999999999.9;
  if (percent >= 1.0) return 0.0;
  return double(ms.sigma(float((1.0 - percent) * 999.0)));
}

ResolvedConds process_conds(vk::Stream& s, const ModelSamplingDiscrete& ms, const Conditioning& positive,
                            const Conditioning& negative, int64_t h, int64_t w) {
  ResolvedConds r;
  for (const auto& c : positive) r.positive.push_back(resolve(s, ms, c, h, w));
  for (const auto& c : negative) r.negative.push_back(resolve(s, ms, c, h, w));
  // Every area entry gets a partner with the same area on the other side (positive first).
  for (size_t i = 0; i < r.positive.size(); ++i) add_same_area(r.negative, r.positive[i]);
  for (size_t i = 0; i < r.negative.size(); ++i) add_same_area(r.positive, r.negative[i]);
  return r;
}

}  // namespace vkdream::sampling
