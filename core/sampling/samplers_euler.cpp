// Euler-type samplers: euler (= ddim), euler_ancestral, heun, heunpp2, dpm_2, dpm_2_ancestral and
// the CFG++ Euler variants (comfy/k_diffusion/sampling.py, eps model, s_churn = 0).
#include <cmath>

#include "sampling/sampler_context.h"

namespace vkdream::sampling::detail {

namespace {
// to_d(x, sigma, denoised) = (x - denoised) / sigma
Tensor to_d(Run& r, const Tensor& x, double sigma, const Tensor& den) {
  return r.lin({{1.0 / sigma, &x}, {-1.0 / sigma, &den}});
}
}  // namespace

Tensor sample_euler(Run& r, Tensor x, const std::vector<float>& sig) {
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    r.callback(int(i), x, den, s);
    double dt = sn - s;
    // x + d * dt with d = (x - den) / s
    x = r.lin({{1.0 + dt / s, &x}, {-dt / s, &den}});
  }
  return x;
}

Tensor sample_euler_ancestral(Run& r, Tensor x, const std::vector<float>& sig) {
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    auto [down, up] = ancestral_step(s, sn, r.opt.eta);
    r.callback(int(i), x, den, s);
    if (down == 0.0) {
      x = den;
    } else {
      double dt = down - s;
      Tensor n = r.noise(x);
      x = r.lin({{1.0 + dt / s, &x}, {-dt / s, &den}, {r.opt.s_noise * up, &n}});
    }
  }
  return x;
}

Tensor sample_heun(Run& r, Tensor x, const std::vector<float>& sig) {
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    Tensor d = to_d(r, x, s, den);
    r.callback(int(i), x, den, s);
    double dt = sn - s;
    if (sn == 0.0) {
      x = r.lin({{1.0, &x}, {dt, &d}});
    } else {
      Tensor x2 = r.lin({{1.0, &x}, {dt, &d}});
      Tensor den2 = r.denoise(x2, sn);
      Tensor d2 = to_d(r, x2, sn, den2);
      x = r.lin({{1.0, &x}, {dt * 0.5, &d}, {dt * 0.5, &d2}});
    }
  }
  return x;
}

Tensor sample_heunpp2(Run& r, Tensor x, const std::vector<float>& sig) {
  double s_end = sig.back();
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    Tensor d = to_d(r, x, s, den);
    r.callback(int(i), x, den, s);
    double dt = sn - s;
    if (sn == s_end) {
      x = r.lin({{1.0, &x}, {dt, &d}});
    } else if (double(sig[i + 2]) == s_end) {
      Tensor x2 = r.lin({{1.0, &x}, {dt, &d}});
      Tensor den2 = r.denoise(x2, sn);
      Tensor d2 = to_d(r, x2, sn, den2);
      double w = 2.0 * sig[0];
      double w2 = sn / w, w1 = 1.0 - w2;
      x = r.lin({{1.0, &x}, {w1 * dt, &d}, {w2 * dt, &d2}});
    } else {
      double snn = sig[i + 2];
      Tensor x2 = r.lin({{1.0, &x}, {dt, &d}});
      Tensor den2 = r.denoise(x2, sn);
      Tensor d2 = to_d(r, x2, sn, den2);
      double dt2 = snn - sn;
      Tensor x3 = r.lin({{1.0, &x2}, {dt2, &d2}});
      Tensor den3 = r.denoise(x3, snn);
      Tensor d3 = to_d(r, x3, snn, den3);
      double w = 3.0 * sig[0];
      double w2 = sn / w, w3 = snn / w, w1 = 1.0 - w2 - w3;
      x = r.lin({{1.0, &x}, {w1 * dt, &d}, {w2 * dt, &d2}, {w3 * dt, &d3}});
    }
  }
  return x;
}

Tensor sample_dpm_2(Run& r, Tensor x, const std::vector<float>& sig) {
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    Tensor d = to_d(r, x, s, den);
    r.callback(int(i), x, den, s);
    if (sn == 0.0) {
      x = r.lin({{1.0, &x}, {sn - s, &d}});
    } else {
      double mid = log_midpoint_f32(float(s), float(sn));
      Tensor x2 = r.lin({{1.0, &x}, {mid - s, &d}});
      Tensor den2 = r.denoise(x2, mid);
      Tensor d2 = to_d(r, x2, mid, den2);
      x = r.lin({{1.0, &x}, {sn - s, &d2}});
    }
  }
  return x;
}

Tensor sample_dpm_2_ancestral(Run& r, Tensor x, const std::vector<float>& sig) {
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    auto [down, up] = ancestral_step(s, sn, r.opt.eta);
    r.callback(int(i), x, den, s);
    Tensor d = to_d(r, x, s, den);
    if (down == 0.0) {
      x = r.lin({{1.0, &x}, {down - s, &d}});
    } else {
      double mid = log_midpoint_f32(float(s), float(down));
      Tensor x2 = r.lin({{1.0, &x}, {mid - s, &d}});
      Tensor den2 = r.denoise(x2, mid);
      Tensor d2 = to_d(r, x2, mid, den2);
      Tensor n = r.noise(x);
      x = r.lin({{1.0, &x}, {down - s, &d2}, {r.opt.s_noise * up, &n}});
    }
  }
  return x;
}

namespace {
// sample_euler_ancestral_cfg_pp (eps model: alpha_s = alpha_t = 1).
Tensor euler_cfg_pp(Run& r, Tensor x, const std::vector<float>& sig, double eta, double s_noise) {
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor uncond;
    Tensor den = r.denoise_cfg_pp(x, s, uncond);
    r.callback(int(i), x, den, s);
    if (sn == 0.0) {
      x = den;
    } else {
      auto [down, up] = ancestral_step(s, sn, eta);
      // d = (x - uncond) / s; x = denoised + sigma_down * d
      if (eta > 0 && s_noise > 0) {
        Tensor n = r.noise(x);
        x = r.lin({{1.0, &den}, {down / s, &x}, {-down / s, &uncond}, {s_noise * up, &n}});
      } else {
        x = r.lin({{1.0, &den}, {down / s, &x}, {-down / s, &uncond}});
      }
    }
  }
  return x;
}
}  // namespace

Tensor sample_euler_cfg_pp(Run& r, Tensor x, const std::vector<float>& sig) {
  return euler_cfg_pp(r, x, sig, 0.0, 0.0);
}

Tensor sample_euler_ancestral_cfg_pp(Run& r, Tensor x, const std::vector<float>& sig) {
  return euler_cfg_pp(r, x, sig, r.opt.eta, r.opt.s_noise);
}

}  // namespace vkdream::sampling::detail
