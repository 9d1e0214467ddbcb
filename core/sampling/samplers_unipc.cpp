// UniPC (bh1 = uni_pc, bh2 = uni_pc_bh2) as ComfyUI runs it (comfy/extra_samplers/uni_pc.py:
// sample_unipc with SigmaConvert, data prediction, multistep, order min(3, len(sigmas) - 2),
// lower_order_final). The state x lives in VP scale (x / sqrt(1 + sigma^2)); the callback gets that
// VP-scaled x after each step, like ComfyUI's. Scalar schedule values are computed in float32 as
// torch does: at the last time (sigma 0 is replaced by 0.001) 1 - alpha^2 cancels badly in f32, and
// the goldens carry that rounding.
#include <cmath>
#include <vector>

#include "sampling/linear_solve.h"
#include "sampling/sampler_context.h"

namespace vkdream::sampling::detail {

namespace {
struct SigmaConvert {
  static float lmc(float t) { return 0.5f * std::log(1.0f / ((t * t) + 1.0f)); }
  static float alpha(float t) { return std::exp(lmc(t)); }
  static float stdv(float t) { return std::sqrt(1.0f - std::exp(2.0f * lmc(t))); }
  static float lambda(float t) {
    float l = lmc(t);
    float log_std = 0.5f * std::log(1.0f - std::exp(2.0f * l));
    return l - log_std;
  }
};

struct UniPC {
  Run& r;
  bool bh2;

  // data_prediction_fn(x, t): x0 = (x - sigma_t * eps) / alpha_t with eps from the eps-wrapped denoiser.
  Tensor model_fn(const Tensor& x, float t) {
    float q = std::pow(t * t + 1.0f, 0.5f);
    Tensor input = r.lin({{double(q), &x}});
    Tensor den = r.denoise(input, t);
    // eps = (input - den) / t; x0 = (x - st * eps) / at
    double st = SigmaConvert::stdv(t), at = SigmaConvert::alpha(t);
    return r.lin({{(1.0 - st * double(q) / t) / at, &x}, {st / (double(t) * at), &den}});
  }

  // multistep_uni_pc_bh_update; returns x_t and (when the corrector ran) model_t.
  std::pair<Tensor, Tensor> update(const Tensor& x, const std::vector<Tensor>& mp, const std::vector<float>& tp,
                                   float t, int order, bool use_corrector) {
    float t0 = tp.back();
    float lp0 = SigmaConvert::lambda(t0), lt = SigmaConvert::lambda(t);
    const Tensor& m0 = mp.back();
    float sp0 = SigmaConvert::stdv(t0), st = SigmaConvert::stdv(t);
    float at = std::exp(SigmaConvert::lmc(t));
    float h = lt - lp0;
    std::vector<double> rks;
    std::vector<const Tensor*> ms;
    for (int i = 1; i < order; ++i) {
      float lpi = SigmaConvert::lambda(tp[tp.size() - 1 - size_t(i)]);
      rks.push_back(double((lpi - lp0) / h));
      ms.push_back(&mp[mp.size() - 1 - size_t(i)]);
    }
    rks.push_back(1.0);
    float hh = -h;
    float h_phi_1 = std::expm1(hh);
    float h_phi_k = h_phi_1 / hh - 1.0f;
    float factorial = 1.0f;
    float B_h = bh2 ? std::expm1(hh) : hh;
    std::vector<std::vector<double>> R;
    std::vector<double> b;
    for (int i = 1; i <= order; ++i) {
      std::vector<double> row;
      for (double rk : rks) row.push_back(double(std::pow(float(rk), float(i - 1))));
      R.push_back(row);
      b.push_back(double(h_phi_k * factorial / B_h));
      factorial *= float(i + 1);
      h_phi_k = h_phi_k / hh - 1.0f / factorial;
    }
    std::vector<double> rhos_p, rhos_c;
    bool have_d1 = !ms.empty();
    if (have_d1) {
      if (order == 2) rhos_p = {0.5};
      else {
        std::vector<std::vector<double>> Rp(size_t(order - 1));
        for (int i = 0; i < order - 1; ++i) Rp[i].assign(R[i].begin(), R[i].begin() + (order - 1));
        rhos_p = solve_linear(Rp, std::vector<double>(b.begin(), b.end() - 1), "uni_pc");
      }
    }
    if (use_corrector) rhos_c = order == 1 ? std::vector<double>{0.5} : solve_linear(R, b, "uni_pc");

    double ab = double(at) * double(B_h);
    // x_t_ = (st / sp0) x - at * h_phi_1 * m0
    double cx = double(st / sp0), cm0 = -double(at * h_phi_1);
    // predictor: x_t = x_t_ - at*B_h * sum_k rho_p[k] (m_k - m0) / rk
    std::vector<std::pair<double, const Tensor*>> pred{{cx, &x}, {cm0, &m0}};
    if (have_d1) {
      for (size_t k = 0; k < ms.size(); ++k) {
        double c = -ab * rhos_p[k] / rks[k];
        pred.push_back({c, ms[k]});
        pred[1].first -= c;
      }
    }
    Tensor x_t = r.lin(pred);
    Tensor model_t;
    if (use_corrector) {
      model_t = model_fn(x_t, t);
      std::vector<std::pair<double, const Tensor*>> corr{{cx, &x}, {cm0, &m0}};
      for (size_t k = 0; k < ms.size(); ++k) {
        double c = -ab * rhos_c[k] / rks[k];
        corr.push_back({c, ms[k]});
        corr[1].first -= c;
      }
      double cl = -ab * rhos_c.back();
      corr.push_back({cl, &model_t});
      corr[1].first -= cl;
      x_t = r.lin(corr);
    }
    return {x_t, model_t};
  }
};

Tensor unipc(Run& r, Tensor x, const std::vector<float>& sigmas, bool bh2) {
  std::vector<float> ts = sigmas;
  if (ts.back() == 0.0f) ts.back() = 0.001f;
  int steps = int(ts.size()) - 1;
  int order = std::min(3, int(ts.size()) - 2);
  float q0 = std::sqrt(1.0f + ts[0] * ts[0]);
  x = r.lin({{1.0 / double(q0), &x}});
  UniPC u{r, bh2};
  std::vector<Tensor> mp;
  std::vector<float> tp;
  for (int step_index = 0; step_index < steps; ++step_index) {
    if (step_index == 0) {
      mp = {u.model_fn(x, ts[0])};
      tp = {ts[0]};
    } else if (step_index < order) {
      float t = ts[size_t(step_index)];
      auto [xn, mx] = u.update(x, mp, tp, t, step_index, true);
      x = xn;
      if (!mx.defined()) mx = u.model_fn(x, t);
      mp.push_back(mx);
      tp.push_back(t);
    } else {
      int extra = step_index == steps - 1 ? 1 : 0;
      for (int step = step_index; step < step_index + 1 + extra; ++step) {
        float t = ts[size_t(step)];
        int step_order = std::min(order, steps + 1 - step);
        bool use_corrector = step != steps;
        auto [xn, mx] = u.update(x, mp, tp, t, step_order, use_corrector);
        x = xn;
        for (int i = 0; i < order - 1; ++i) {
          tp[size_t(i)] = tp[size_t(i) + 1];
          mp[size_t(i)] = mp[size_t(i) + 1];
        }
        tp.back() = t;
        if (step < steps) {
          if (!mx.defined()) mx = u.model_fn(x, t);
          mp.back() = mx;
        }
      }
    }
    r.callback(step_index, x, mp.back(), ts[size_t(step_index)]);
  }
  float a_last = SigmaConvert::alpha(ts.back());
  return r.lin({{1.0 / double(a_last), &x}});
}
}  // namespace

Tensor sample_uni_pc(Run& r, Tensor x, const std::vector<float>& sig) { return unipc(r, x, sig, false); }
Tensor sample_uni_pc_bh2(Run& r, Tensor x, const std::vector<float>& sig) { return unipc(r, x, sig, true); }

}  // namespace vkdream::sampling::detail
