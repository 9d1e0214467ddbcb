#include "sampling/cond_reference.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/layout.h"

namespace vkdream::test {

sampling::EpsFn fake_eps(int* calls) {
  return [calls](vk::Stream& s, const Tensor& x_in, const std::vector<float>& t, const Tensor& ctx) -> Tensor {
    if (calls) ++*calls;
    const int64_t n = x_in.dim(0), c = x_in.dim(1), h = x_in.dim(2), w = x_in.dim(3);
    if (c != kFakeChannels || ctx.dim(2) != kFakeChannels || ctx.dim(0) != n || int64_t(t.size()) != n)
      throw std::invalid_argument("fake_eps: bad shapes " + x_in.str() + " / " + ctx.str());
    for (float v : t)
      if (v != t[0]) throw std::invalid_argument("fake_eps: one timestep per call expected");
    Tensor q = ops::permute(s, x_in, {0, 2, 3, 1}).reshape({n, h * w, c});
    Tensor a = ops::attention(s, q, ctx, ctx, 1);
    Tensor a4 = ops::permute(s, a.reshape({n, h, w, c}), {0, 3, 1, 2});
    return ops::lincomb(s, {{1.0, &a4}, {0.3 + double(t[0]) / 2000.0, &x_in}});
  };
}

RefTensor ref_from(const std::vector<float>& v, std::vector<int64_t> shape) {
  return RefTensor{std::move(shape), std::vector<double>(v.begin(), v.end())};
}

std::vector<double> ref_fake_eps_row(const std::vector<double>& x_in, int64_t h, int64_t w,
                                     const std::vector<double>& ctx, int64_t L, double t) {
  const int64_t C = kFakeChannels, hw = h * w;
  std::vector<double> out(size_t(C * hw));
  std::vector<double> sc(static_cast<size_t>(L), 0.0);
  for (int64_t j = 0; j < hw; ++j) {
    double mx = -1e300;
    for (int64_t k = 0; k < L; ++k) {
      double d = 0;
      for (int64_t c = 0; c < C; ++c) d += x_in[size_t(c * hw + j)] * ctx[size_t(k * C + c)];
      sc[size_t(k)] = 0.5 * d;
      mx = std::max(mx, sc[size_t(k)]);
    }
    double z = 0;
    for (auto& v : sc) z += (v = std::exp(v - mx));
    for (int64_t c = 0; c < C; ++c) {
      double a = 0;
      for (int64_t k = 0; k < L; ++k) a += sc[size_t(k)] / z * ctx[size_t(k * C + c)];
      out[size_t(c * hw + j)] = a + x_in[size_t(c * hw + j)] * (0.3 + t / 2000.0);
    }
  }
  return out;
}

RefTensor ref_bilinear(const RefTensor& m, int64_t oh, int64_t ow) {
  const int64_t n = m.shape[0], ih = m.shape[1], iw = m.shape[2];
  RefTensor r{{n, oh, ow}, std::vector<double>(size_t(n * oh * ow))};
  auto src = [](int64_t i, int64_t in, int64_t out, int64_t& i0, int64_t& i1, double& l1) {
    double s = (double(i) + 0.5) * double(in) / double(out) - 0.5;
    if (s < 0) s = 0;
    i0 = int64_t(std::floor(s));
    i1 = std::min(i0 + 1, in - 1);
    l1 = s - double(i0);
  };
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y) {
      int64_t y0, y1;
      double ly;
      src(y, ih, oh, y0, y1, ly);
      for (int64_t x = 0; x < ow; ++x) {
        int64_t x0, x1;
        double lx;
        src(x, iw, ow, x0, x1, lx);
        auto at = [&](int64_t yy, int64_t xx) { return m.v[size_t((b * ih + yy) * iw + xx)]; };
        r.v[size_t((b * oh + y) * ow + x)] = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
                                             ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
      }
    }
  return r;
}

namespace {

using Area = std::array<int64_t, 4>;

void pair_into(std::vector<RefCond>& side, const RefCond& c) {
  if (!c.area) return;
  const Area& ca = *c.area;
  const RefCond* best = nullptr;
  for (const auto& x : side) {
    if (!x.area) {
      if (!best) best = &x;
      continue;
    }
    const Area& a = *x.area;
    bool inside = ca[2] >= a[2] && ca[3] >= a[3] && ca[0] + ca[2] <= a[0] + a[2] && ca[1] + ca[3] <= a[1] + a[3];
    if (!inside) continue;
    if (!best || !best->area || (*best->area)[0] * (*best->area)[1] > a[0] * a[1]) best = &x;
  }
  if (!best || (best->area && *best->area == ca)) return;
  RefCond copy = c;
  copy.ctx = best->ctx;
  side.push_back(copy);
}

}  // namespace

void ref_pair_areas(std::vector<RefCond>& positive, std::vector<RefCond>& negative) {
  for (size_t i = 0; i < positive.size(); ++i) pair_into(negative, positive[i]);
  for (size_t i = 0; i < negative.size(); ++i) pair_into(positive, negative[i]);
}

RefTensor ref_calc_side(const std::vector<RefCond>* conds, const RefTensor& x, double sigma,
                        const sampling::ModelSamplingDiscrete& ms) {
  const int64_t B = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  RefTensor out{x.shape, std::vector<double>(x.v.size(), 0.0)};
  std::vector<double> count(x.v.size(), 1e-37);
  if (conds) {
    const double c_in = 1.0 / std::sqrt(sigma * sigma + 1.0);
    const double t = double(ms.timestep(float(sigma)));
    for (const auto& c : *conds) {
      if (sigma > c.sigma_start || sigma < c.sigma_end) continue;
      Area a = c.area ? *c.area : Area{H, W, 0, 0};
      a[0] = std::min(H - a[2], a[0]);
      a[1] = std::min(W - a[3], a[1]);
      const int64_t h = a[0], w = a[1];
      // mult over the area: mask * mask_strength * strength, or strength feathered at inner borders
      std::vector<double> fy(size_t(h), 1.0), fx(size_t(w), 1.0);
      if (!c.mask && c.area) {
        int64_t rr = std::min<int64_t>(8, h / 4);
        for (int64_t k = 0; k < rr; ++k) {
          if (a[2] != 0) fy[size_t(k)] *= double(k + 1) / double(rr);
          if (a[2] + h < H) fy[size_t(h - 1 - k)] *= double(k + 1) / double(rr);
        }
        rr = std::min<int64_t>(8, w / 4);
        for (int64_t k = 0; k < rr; ++k) {
          if (a[3] != 0) fx[size_t(k)] *= double(k + 1) / double(rr);
          if (a[3] + w < W) fx[size_t(w - 1 - k)] *= double(k + 1) / double(rr);
        }
      }
      for (int64_t b = 0; b < B; ++b) {
        const int64_t bc = c.ctx.shape[0] >= B ? b : b % c.ctx.shape[0];
        const int64_t L = c.ctx.shape[1];
        std::vector<double> ctx(c.ctx.v.begin() + bc * L * kFakeChannels, c.ctx.v.begin() + (bc + 1) * L * kFakeChannels);
        std::vector<double> xin(size_t(C * h * w));
        for (int64_t ch = 0; ch < C; ++ch)
          for (int64_t y = 0; y < h; ++y)
            for (int64_t xx = 0; xx < w; ++xx) xin[size_t((ch * h + y) * w + xx)] = x.at(b, ch, a[2] + y, a[3] + xx) * c_in;
        auto eps = ref_fake_eps_row(xin, h, w, ctx, L, t);
        for (int64_t ch = 0; ch < C; ++ch)
          for (int64_t y = 0; y < h; ++y)
            for (int64_t xx = 0; xx < w; ++xx) {
              double m;
              if (c.mask) {
                const RefTensor& mk = *c.mask;
                const int64_t bm = mk.shape[0] >= B ? b : b % mk.shape[0];
                m = mk.v[size_t((bm * H + a[2] + y) * W + a[3] + xx)] * c.mask_strength * c.strength;
              } else {
                m = c.strength * fy[size_t(y)] * fx[size_t(xx)];
              }
              const size_t o = size_t(((b * C + ch) * H + a[2] + y) * W + a[3] + xx);
              const double den = x.v[o] - sigma * eps[size_t((ch * h + y) * w + xx)];
              out.v[o] += den * m;
              count[o] += m;
            }
      }
    }
  }
  for (size_t i = 0; i < out.v.size(); ++i) out.v[i] /= count[i];
  return out;
}

RefTensor ref_guided(const std::vector<RefCond>& positive, const std::vector<RefCond>& negative, const RefTensor& x,
                     double sigma, double cfg, const sampling::ModelSamplingDiscrete& ms, bool need_uncond,
                     RefTensor* uncond_out) {
  RefTensor pos = ref_calc_side(&positive, x, sigma, ms);
  RefTensor neg = ref_calc_side(cfg != 1.0 || need_uncond ? &negative : nullptr, x, sigma, ms);
  if (uncond_out) *uncond_out = neg;
  RefTensor r = pos;
  for (size_t i = 0; i < r.v.size(); ++i) r.v[i] = neg.v[i] + (pos.v[i] - neg.v[i]) * cfg;
  return r;
}

::testing::AssertionResult ref_close(const std::vector<float>& got, const RefTensor& want, double atol, double rtol,
                                     const std::string& what, double* max_err) {
  if (got.size() != want.v.size())
    return ::testing::AssertionFailure() << what << ": " << got.size() << " values, want " << want.v.size();
  double worst = 0, worst_excess = -1;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double e = std::abs(double(got[i]) - want.v[i]);
    if (!std::isfinite(double(got[i]))) e = INFINITY;
    worst = std::max(worst, e);
    double excess = e - (atol + rtol * std::abs(want.v[i]));
    if (excess > worst_excess) worst_excess = excess, at = i;
  }
  if (max_err) *max_err = worst;
  std::printf("[cond] %-52s max abs err %.3g\n", what.c_str(), worst);
  if (worst_excess <= 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": element " << at << " got " << got[at] << " want " << want.v[at]
                                       << " (atol " << atol << ", rtol " << rtol << ", max abs err " << worst << ")";
}

}  // namespace vkdream::test
