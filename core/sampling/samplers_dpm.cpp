// DPM-Solver family: lms, dpm_fast, dpm_adaptive, dpmpp_2s_ancestral (+cfg_pp), dpmpp_sde,
// dpmpp_2m (+cfg_pp), dpmpp_2m_sde (midpoint/heun), dpmpp_3m_sde (comfy/k_diffusion/sampling.py,
// eps model: alpha = 1, lambda = -log(sigma)).
#include <cmath>
#include <deque>
#include <map>
#include <string>

#include "sampling/sampler_context.h"

namespace vkdream::sampling::detail {

// ---------------------------------------------------------------- lms

namespace {
// integral over [t[i], t[i+1]] of the Lagrange basis polynomial j over nodes t[i], t[i-1], ...
// (scipy's quad is exact for these polynomials up to its tolerance; Gauss-Legendre with 5 nodes
// is exact up to degree 9).
double lms_coeff(int order, const std::vector<float>& t, int i, int j) {
  static const double xs[5] = {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831,
                               0.9061798459386640};
  static const double ws[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665,
                               0.2369268850561891};
  double a = t[i], b = t[i + 1];
  double sum = 0;
  for (int q = 0; q < 5; ++q) {
    double tau = 0.5 * (b - a) * xs[q] + 0.5 * (a + b);
    double prod = 1.0;
    for (int k = 0; k < order; ++k) {
      if (k == j) continue;
      prod *= (tau - double(t[i - k])) / (double(t[i - j]) - double(t[i - k]));
    }
    sum += ws[q] * prod;
  }
  return sum * 0.5 * (b - a);
}
}  // namespace

Tensor sample_lms(Run& r, Tensor x, const std::vector<float>& sig) {
  const int order = 4;
  std::deque<Tensor> ds;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i];
    Tensor den = r.denoise(x, s);
    ds.push_back(r.lin({{1.0 / s, &x}, {-1.0 / s, &den}}));
    if (int(ds.size()) > order) ds.pop_front();
    r.callback(int(i), x, den, s);
    if (sig[i + 1] == 0.0f) {
      x = den;
    } else {
      int cur = std::min(int(i) + 1, order);
      std::vector<std::pair<double, const Tensor*>> terms{{1.0, &x}};
      for (int j = 0; j < cur; ++j) terms.push_back({lms_coeff(cur, sig, int(i), j), &ds[ds.size() - 1 - j]});
      x = r.lin(terms);
    }
  }
  return x;
}

// ---------------------------------------------------------------- DPM-Solver (fast, adaptive)

namespace {
struct DPMSolver {
  Run& r;
  std::map<std::string, Tensor> cache;
  static double sigma(double t) { return std::exp(-t); }
  static double t_of(double sigma) { return -std::log(sigma); }
  Tensor last_denoised;

  const Tensor& eps(const std::string& key, const Tensor& x, double t) {
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    double sg = sigma(t);
    Tensor den = r.denoise(x, sg);
    if (key == "eps") last_denoised = den;
    return cache[key] = r.lin({{1.0 / sg, &x}, {-1.0 / sg, &den}});
  }
  Tensor step1(const Tensor& x, double t, double tn) {
    double h = tn - t;
    const Tensor& e = eps("eps", x, t);
    return r.lin({{1.0, &x}, {-sigma(tn) * std::expm1(h), &e}});
  }
  Tensor step2(const Tensor& x, double t, double tn, double r1 = 0.5) {
    double h = tn - t;
    Tensor e = eps("eps", x, t);
    double s1 = t + r1 * h;
    Tensor u1 = r.lin({{1.0, &x}, {-sigma(s1) * std::expm1(r1 * h), &e}});
    Tensor e1 = eps("eps_r1", u1, s1);
    double a = sigma(tn) * std::expm1(h), b = sigma(tn) / (2 * r1) * std::expm1(h);
    return r.lin({{1.0, &x}, {-a + b, &e}, {-b, &e1}});
  }
  Tensor step3(const Tensor& x, double t, double tn, double r1 = 1.0 / 3, double r2 = 2.0 / 3) {
    double h = tn - t;
    Tensor e = eps("eps", x, t);
    double s1 = t + r1 * h, s2 = t + r2 * h;
    Tensor u1 = r.lin({{1.0, &x}, {-sigma(s1) * std::expm1(r1 * h), &e}});
    Tensor e1 = eps("eps_r1", u1, s1);
    double c = sigma(s2) * (r2 / r1) * (std::expm1(r2 * h) / (r2 * h) - 1);
    Tensor u2 = r.lin({{1.0, &x}, {-sigma(s2) * std::expm1(r2 * h) + c, &e}, {-c, &e1}});
    Tensor e2 = eps("eps_r2", u2, s2);
    double a = sigma(tn) * std::expm1(h), b = sigma(tn) / r2 * (std::expm1(h) / h - 1);
    return r.lin({{1.0, &x}, {-a + b, &e}, {-b, &e2}});
  }
};

std::pair<double, double> min_max_sigma(const std::vector<float>& sig) {
  double smin = sig.back();
  if (smin == 0.0) smin = sig[sig.size() - 2];
  double smax = sig[0];
  if (smin <= 0 || smax <= 0) throw SamplerError("dpm_fast/dpm_adaptive: sigma_min and sigma_max must not be 0");
  return {smin, smax};
}
}  // namespace

Tensor sample_dpm_fast(Run& r, Tensor x, const std::vector<float>& sig) {
  auto [smin, smax] = min_max_sigma(sig);
  int nfe = int(sig.size()) - 1;
  double t_start = DPMSolver::t_of(smax), t_end = DPMSolver::t_of(smin);
  int m = nfe / 3 + 1;
  std::vector<double> ts(size_t(m) + 1);
  for (int k = 0; k <= m; ++k) ts[k] = t_start + (t_end - t_start) * double(k) / double(m);
  std::vector<int> orders;
  if (nfe % 3 == 0) {
    orders.assign(size_t(std::max(0, m - 2)), 3);
    orders.push_back(2);
    orders.push_back(1);
  } else {
    orders.assign(size_t(m - 1), 3);
    orders.push_back(nfe % 3);
  }
  r.total = nfe;
  for (size_t i = 0; i < orders.size(); ++i) {
    DPMSolver solver{r, {}, {}};
    double t = ts[i], tn = ts[i + 1];
    solver.eps("eps", x, t);
    r.callback(int(i), x, solver.last_denoised, DPMSolver::sigma(t));
    if (orders[i] == 1) x = solver.step1(x, t, tn);
    else if (orders[i] == 2) x = solver.step2(x, t, tn);
    else x = solver.step3(x, t, tn);
  }
  return x;
}

Tensor sample_dpm_adaptive(Run& r, Tensor x, const std::vector<float>& sig) {
  auto [smin, smax] = min_max_sigma(sig);
  const double rtol = 0.05, atol = 0.0078, accept_safety = 0.81, pid_eps = 1e-8;
  const double b1 = 1.0 / 3.0, b2 = 0.0, b3 = 0.0;  // pcoeff 0, icoeff 1, dcoeff 0, order 3
  double t_start = DPMSolver::t_of(smax), t_end = DPMSolver::t_of(smin);
  double h = 0.05;
  std::vector<double> errs;
  double s = t_start;
  Tensor x_prev = x;
  int steps = 0;
  while (s < t_end - 1e-5) {
    DPMSolver solver{r, {}, {}};
    double t = std::min(t_end, s + h);
    solver.eps("eps", x, s);
    Tensor den = solver.last_denoised;
    Tensor x_low = solver.step2(x, s, t, 1.0 / 3.0);
    Tensor x_high = solver.step3(x, s, t);
    double error = adaptive_error_norm(r.s, x_low, x_high, x_prev, atol, rtol);
    // PIDStepSizeController.propose_step
    double inv = 1.0 / (error + pid_eps);
    if (errs.empty()) errs = {inv, inv, inv};
    errs[0] = inv;
    double factor = std::pow(errs[0], b1) * std::pow(errs[1], b2) * std::pow(errs[2], b3);
    factor = 1.0 + std::atan(factor - 1.0);
    bool accept = factor >= accept_safety;
    if (accept) {
      errs[2] = errs[1];
      errs[1] = errs[0];
    }
    h *= factor;
    if (accept) {
      x_prev = x_low;
      x = x_high;
      s = t;
    }
    ++steps;
    r.callback(steps - 1, x, den, DPMSolver::sigma(s));
    if (steps > 100000) throw SamplerError("dpm_adaptive: step size collapsed");
  }
  return x;
}

// ---------------------------------------------------------------- DPM-Solver++ (2S, SDE, 2M, 3M)

Tensor sample_dpmpp_2s_ancestral(Run& r, Tensor x, const std::vector<float>& sig) {
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    auto [down, up] = ancestral_step(s, sn, r.opt.eta);
    r.callback(int(i), x, den, s);
    if (down == 0.0) {
      double dt = down - s;
      x = r.lin({{1.0 + dt / s, &x}, {-dt / s, &den}});
    } else {
      double t = -std::log(s), tn = -std::log(down), h = tn - t, sm = t + 0.5 * h;
      Tensor x2 = r.lin({{std::exp(-sm) / std::exp(-t), &x}, {-std::expm1(-h * 0.5), &den}});
      Tensor den2 = r.denoise(x2, std::exp(-sm));
      x = r.lin({{std::exp(-tn) / std::exp(-t), &x}, {-std::expm1(-h), &den2}});
    }
    if (sn > 0) {
      Tensor n = r.noise(x);
      x = r.lin({{1.0, &x}, {r.opt.s_noise * up, &n}});
    }
  }
  return x;
}

Tensor sample_dpmpp_2s_ancestral_cfg_pp(Run& r, Tensor x, const std::vector<float>& sig) {
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor uncond;
    Tensor den = r.denoise_cfg_pp(x, s, uncond);
    Tensor guidance = r.lin({{1.0, &den}, {-1.0, &uncond}});
    auto [down, up] = ancestral_step(s, sn, r.opt.eta);
    r.callback(int(i), x, den, s);
    if (down == 0.0) {
      double dt = down - s;
      x = r.lin({{1.0 + dt / s, &x}, {-dt / s, &uncond}});
    } else {
      double t = -std::log(s), tn = -std::log(down), h = tn - t, sm = t + 0.5 * h;
      Tensor x2 = r.lin({{std::exp(-sm) / std::exp(-t), &x}, {-std::expm1(-h * 0.5), &uncond}});
      Tensor uncond2;
      r.denoise_cfg_pp(x2, std::exp(-sm), uncond2);
      x = r.lin({{std::exp(-tn) / std::exp(-t), &x}, {-std::expm1(-h), &uncond2}});
    }
    if (sn > 0) {
      Tensor n = r.noise(x);
      x = r.lin({{1.0, &x}, {r.opt.s_noise * up, &n}, {1.0, &guidance}});
    } else {
      x = r.lin({{1.0, &x}, {1.0, &guidance}});
    }
  }
  return x;
}

Tensor sample_dpmpp_sde(Run& r, Tensor x, const std::vector<float>& sig) {
  const double eta = r.opt.eta, s_noise = r.opt.s_noise, rr = 0.5, fac = 1.0 / (2 * rr);
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    r.callback(int(i), x, den, s);
    if (sn == 0.0) {
      x = den;
      continue;
    }
    double ls = -std::log(s), lt = -std::log(sn), h = lt - ls, ls1 = ls + rr * h;
    double s1 = std::exp(-ls1);
    // Step 1
    auto [sd1, su1] = ancestral_step(s, s1, eta);
    double h1 = -std::log(sd1) - ls;
    Tensor x2;
    if (eta > 0 && s_noise > 0) {
      Tensor n = r.brownian_noise(x, sig, s, s1);
      x2 = r.lin({{std::exp(-h1), &x}, {-std::expm1(-h1), &den}, {s_noise * su1, &n}});
    } else {
      x2 = r.lin({{std::exp(-h1), &x}, {-std::expm1(-h1), &den}});
    }
    Tensor den2 = r.denoise(x2, s1);
    // Step 2
    auto [sd2, su2] = ancestral_step(s, sn, eta);
    double h2 = -std::log(sd2) - ls;
    double c = -std::expm1(-h2);
    if (eta > 0 && s_noise > 0) {
      Tensor n = r.brownian_noise(x, sig, s, sn);
      x = r.lin({{std::exp(-h2), &x}, {c * (1 - fac), &den}, {c * fac, &den2}, {s_noise * su2, &n}});
    } else {
      x = r.lin({{std::exp(-h2), &x}, {c * (1 - fac), &den}, {c * fac, &den2}});
    }
  }
  return x;
}

Tensor sample_dpmpp_2m(Run& r, Tensor x, const std::vector<float>& sig) {
  Tensor old;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    r.callback(int(i), x, den, s);
    if (sn == 0.0) {
      x = den;
    } else {
      double t = -std::log(s), tn = -std::log(sn), h = tn - t;
      double a = std::exp(-tn) / std::exp(-t), b = -std::expm1(-h);
      if (!old.defined()) {
        x = r.lin({{a, &x}, {b, &den}});
      } else {
        double h_last = t + std::log(double(sig[i - 1]));
        double rr = h_last / h;
        x = r.lin({{a, &x}, {b * (1 + 1 / (2 * rr)), &den}, {-b / (2 * rr), &old}});
      }
    }
    old = den;
  }
  return x;
}

Tensor sample_dpmpp_2m_cfg_pp(Run& r, Tensor x, const std::vector<float>& sig) {
  Tensor old_uncond;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor uncond;
    Tensor den = r.denoise_cfg_pp(x, s, uncond);
    r.callback(int(i), x, den, s);
    double t = -std::log(s);
    double tn = sn == 0.0 ? INFINITY : -std::log(sn);
    double h = tn - t;
    double e = sn == 0.0 ? 0.0 : std::exp(-h);
    if (!old_uncond.defined() || sn == 0.0) {
      x = r.lin({{1.0, &den}, {-e, &uncond}, {e, &x}});
    } else {
      double h_last = t + std::log(double(sig[i - 1]));
      double rr = h_last / h;
      double c = -std::expm1(-h) / (2 * rr);
      x = r.lin({{1.0 + c, &den}, {-e, &uncond}, {-c, &old_uncond}, {e, &x}});
    }
    old_uncond = uncond;
  }
  return x;
}

namespace {
Tensor dpmpp_2m_sde(Run& r, Tensor x, const std::vector<float>& sig, bool heun) {
  const double eta = r.opt.eta, s_noise = r.opt.s_noise;
  Tensor old;
  double h = 0, h_last = 0;
  bool have_h = false;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    r.callback(int(i), x, den, s);
    if (sn == 0.0) {
      x = den;
    } else {
      double ls = -std::log(s), lt = -std::log(sn);
      h = lt - ls;
      double h_eta = h * (eta + 1);
      double c = -std::expm1(-h_eta);
      std::vector<std::pair<double, const Tensor*>> terms{{sn / s * std::exp(-h * eta), &x}, {c, &den}};
      if (old.defined() && have_h) {
        double rr = h_last / h;
        double k = heun ? (c / (-h_eta) + 1) * (1 / rr) : 0.5 * c * (1 / rr);
        terms[1].first += k;
        terms.push_back({-k, &old});
      }
      Tensor n;
      if (eta > 0 && s_noise > 0) {
        n = r.brownian_noise(x, sig, s, sn);
        terms.push_back({sn * std::sqrt(-std::expm1(-2 * h * eta)) * s_noise, &n});
      }
      x = r.lin(terms);
      have_h = true;
    }
    old = den;
    h_last = h;
  }
  return x;
}
}  // namespace

Tensor sample_dpmpp_2m_sde(Run& r, Tensor x, const std::vector<float>& sig) { return dpmpp_2m_sde(r, x, sig, false); }
Tensor sample_dpmpp_2m_sde_heun(Run& r, Tensor x, const std::vector<float>& sig) {
  return dpmpp_2m_sde(r, x, sig, true);
}

Tensor sample_dpmpp_3m_sde(Run& r, Tensor x, const std::vector<float>& sig) {
  const double eta = r.opt.eta, s_noise = r.opt.s_noise;
  Tensor den1, den2;
  double h = 0, h1 = 0, h2 = 0;
  int nh = 0;  // how many of h_1, h_2 are set
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    r.callback(int(i), x, den, s);
    if (sn == 0.0) {
      x = den;
    } else {
      double ls = -std::log(s), lt = -std::log(sn);
      h = lt - ls;
      double h_eta = h * (eta + 1);
      std::vector<std::pair<double, const Tensor*>> terms{{sn / s * std::exp(-h * eta), &x},
                                                          {-std::expm1(-h_eta), &den}};
      double phi2 = std::expm1(-h_eta) / h_eta + 1;
      if (nh >= 2) {
        double r0 = h1 / h, r1 = h2 / h;
        // d1_0 = (den - den1)/r0; d1_1 = (den1 - den2)/r1
        // d1 = d1_0 + (d1_0 - d1_1) * r0/(r0+r1); d2 = (d1_0 - d1_1)/(r0+r1)
        double phi3 = phi2 / h_eta - 0.5;
        double k0 = 1 / r0, k1 = 1 / r1, q = r0 / (r0 + r1), w = 1 / (r0 + r1);
        // d1 coefficients on (den, den1, den2)
        double d1a = k0 * (1 + q), d1b = -k0 * (1 + q) - k1 * q, d1c = k1 * q;
        double d2a = k0 * w, d2b = (-k0 - k1) * w, d2c = k1 * w;
        terms[1].first += phi2 * d1a - phi3 * d2a;
        terms.push_back({phi2 * d1b - phi3 * d2b, &den1});
        terms.push_back({phi2 * d1c - phi3 * d2c, &den2});
      } else if (nh >= 1) {
        double rr = h1 / h;
        terms[1].first += phi2 / rr;
        terms.push_back({-phi2 / rr, &den1});
      }
      Tensor n;
      if (eta > 0 && s_noise > 0) {
        n = r.brownian_noise(x, sig, s, sn);
        terms.push_back({sn * std::sqrt(-std::expm1(-2 * h * eta)) * s_noise, &n});
      }
      x = r.lin(terms);
    }
    den2 = den1;
    den1 = den;
    h2 = h1;
    h1 = h;
    nh = std::min(nh + 1, 2);
  }
  return x;
}

}  // namespace vkdream::sampling::detail
