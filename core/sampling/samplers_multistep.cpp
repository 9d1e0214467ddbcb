// Multistep and stochastic-step samplers: ddpm, lcm, ipndm, ipndm_v, deis, res_multistep (+cfg_pp,
// ancestral), gradient_estimation (+cfg_pp), er_sde, seeds_2, seeds_3, exp_heun_2_x0 (+sde)
// (comfy/k_diffusion/sampling.py and deis.py, eps model: alpha = 1, half-logSNR = -log(sigma)).
#include <cmath>
#include <deque>

#include "sampling/sampler_context.h"

namespace vkdream::sampling::detail {

namespace {
Tensor to_d(Run& r, const Tensor& x, double sigma, const Tensor& den) {
  return r.lin({{1.0 / sigma, &x}, {-1.0 / sigma, &den}});
}
}  // namespace

// ---------------------------------------------------------------- ddpm, lcm

Tensor sample_ddpm(Run& r, Tensor x, const std::vector<float>& sig) {
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    float s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    r.callback(int(i), x, den, s);
    // DDPMSampler_step on x / sqrt(1 + s^2) with eps = (x - den) / s, scalars in f32 like torch.
    float q = std::sqrt(1.0f + s * s);
    float ac = 1.0f / (s * s + 1.0f), acp = 1.0f / (sn * sn + 1.0f), alpha = ac / acp;
    float A = std::sqrt(1.0f / alpha), B = (1.0f - alpha) / std::sqrt(1.0f - ac);
    double K = sn != 0.0f ? double(std::sqrt(1.0f + sn * sn)) : 1.0;
    std::vector<std::pair<double, const Tensor*>> terms{{K * A * (1.0 / q - double(B) / s), &x},
                                                        {K * A * double(B) / s, &den}};
    Tensor n;
    if (sn > 0) {
      n = r.noise(x);
      float C = std::sqrt((1.0f - alpha) * (1.0f - acp) / (1.0f - ac));
      terms.push_back({K * C, &n});
    }
    x = r.lin(terms);
  }
  return x;
}

Tensor sample_lcm(Run& r, Tensor x, const std::vector<float>& sig) {
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    r.callback(int(i), x, den, s);
    x = den;
    if (sn > 0) {
      Tensor n = r.noise(x);
      x = r.lin({{1.0, &den}, {r.opt.s_noise * sn, &n}});  // EPS.noise_scaling(sigma_next, noise, x)
    }
  }
  return x;
}

// ---------------------------------------------------------------- ipndm, ipndm_v, deis
// Note: these three pass the *start* x to the callback on every step (ComfyUI's code does), while
// the model sees the current x.

namespace {
void push_buffer(std::deque<Tensor>& buf, const Tensor& d, size_t max_order) {
  if (buf.size() == max_order - 1) buf.pop_front();
  buf.push_back(d);
}
}  // namespace

Tensor sample_ipndm(Run& r, Tensor x, const std::vector<float>& sig) {
  const int max_order = 4;
  const Tensor x_start = x;
  Tensor xn = x;
  std::deque<Tensor> buf;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double tc = sig[i], tn = sig[i + 1];
    Tensor xc = xn;
    Tensor den = r.denoise(xc, tc);
    r.callback(int(i), x_start, den, tc);
    Tensor d = to_d(r, xc, tc, den);
    int order = std::min(max_order, int(i) + 1);
    double dt = tn - tc;
    size_t b = buf.size();
    if (tn == 0.0) xn = den;
    else if (order == 1) xn = r.lin({{1.0, &xc}, {dt, &d}});
    else if (order == 2) xn = r.lin({{1.0, &xc}, {dt * 1.5, &d}, {-dt * 0.5, &buf[b - 1]}});
    else if (order == 3)
      xn = r.lin({{1.0, &xc}, {dt * 23 / 12, &d}, {-dt * 16 / 12, &buf[b - 1]}, {dt * 5 / 12, &buf[b - 2]}});
    else
      xn = r.lin({{1.0, &xc}, {dt * 55 / 24, &d}, {-dt * 59 / 24, &buf[b - 1]}, {dt * 37 / 24, &buf[b - 2]},
                  {-dt * 9 / 24, &buf[b - 3]}});
    push_buffer(buf, d, max_order);
  }
  return xn;
}

Tensor sample_ipndm_v(Run& r, Tensor x, const std::vector<float>& sig) {
  const int max_order = 4;
  const Tensor x_start = x;
  Tensor xn = x;
  std::deque<Tensor> buf;
  auto t = [&](long k) { return double(sig[size_t(k)]); };
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    long I = long(i);
    double tc = t(I), tn = t(I + 1);
    Tensor xc = xn;
    Tensor den = r.denoise(xc, tc);
    r.callback(int(i), x_start, den, tc);
    Tensor d = to_d(r, xc, tc, den);
    int order = std::min(max_order, int(i) + 1);
    double dt = tn - tc;
    size_t b = buf.size();
    if (tn == 0.0) {
      xn = den;
    } else if (order == 1) {
      xn = r.lin({{1.0, &xc}, {dt, &d}});
    } else if (order == 2) {
      double hn = tn - tc, hn1 = tc - t(I - 1);
      double c1 = (2 + hn / hn1) / 2, c2 = -(hn / hn1) / 2;
      xn = r.lin({{1.0, &xc}, {dt * c1, &d}, {dt * c2, &buf[b - 1]}});
    } else if (order == 3) {
      double hn = tn - tc, hn1 = tc - t(I - 1), hn2 = t(I - 1) - t(I - 2);
      double temp = (1 - hn / (3 * (hn + hn1)) * (hn * (hn + hn1)) / (hn1 * (hn1 + hn2))) / 2;
      double c1 = (2 + hn / hn1) / 2 + temp;
      double c2 = -(hn / hn1) / 2 - (1 + hn1 / hn2) * temp;
      double c3 = temp * hn1 / hn2;
      xn = r.lin({{1.0, &xc}, {dt * c1, &d}, {dt * c2, &buf[b - 1]}, {dt * c3, &buf[b - 2]}});
    } else {
      double hn = tn - tc, hn1 = tc - t(I - 1), hn2 = t(I - 1) - t(I - 2), hn3 = t(I - 2) - t(I - 3);
      double temp1 = (1 - hn / (3 * (hn + hn1)) * (hn * (hn + hn1)) / (hn1 * (hn1 + hn2))) / 2;
      double temp2 = ((1 - hn / (3 * (hn + hn1))) / 2 + (1 - hn / (2 * (hn + hn1))) * hn / (6 * (hn + hn1 + hn2))) *
                     (hn * (hn + hn1) * (hn + hn1 + hn2)) / (hn1 * (hn1 + hn2) * (hn1 + hn2 + hn3));
      double c1 = (2 + hn / hn1) / 2 + temp1 + temp2;
      double c2 = -(hn / hn1) / 2 - (1 + hn1 / hn2) * temp1 -
                  (1 + (hn1 / hn2) + (hn1 * (hn1 + hn2) / (hn2 * (hn2 + hn3)))) * temp2;
      double c3 = temp1 * hn1 / hn2 +
                  ((hn1 / hn2) + (hn1 * (hn1 + hn2) / (hn2 * (hn2 + hn3))) * (1 + hn2 / hn3)) * temp2;
      double c4 = -temp2 * (hn1 * (hn1 + hn2) / (hn2 * (hn2 + hn3))) * hn1 / hn2;
      xn = r.lin({{1.0, &xc}, {dt * c1, &d}, {dt * c2, &buf[b - 1]}, {dt * c3, &buf[b - 2]}, {dt * c4, &buf[b - 3]}});
    }
    push_buffer(buf, d, max_order);
  }
  return xn;
}

namespace {
// deis.get_deis_coeff_list(t_steps, max_order, N=10000, deis_mode='tab').
std::vector<std::vector<double>> deis_coeffs(const std::vector<float>& sig, int max_order) {
  const int N = 10000;
  const double eps_s = 1e-3, smin = 0.002, smax = 80.0;
  double beta_d = 2 * (std::log(smin * smin + 1) / eps_s - std::log(smax * smax + 1)) / (eps_s - 1);
  double beta_min = std::log(smax * smax + 1) - 0.5 * beta_d;
  std::vector<double> t(sig.size());
  for (size_t k = 0; k < sig.size(); ++k) {
    double s = sig[k];
    t[k] = (std::sqrt(beta_min * beta_min + 2 * beta_d * std::log(s * s + 1)) - beta_min) / beta_d;
  }
  double b0 = beta_min, b1 = beta_d + beta_min;
  std::vector<std::vector<double>> C;
  for (size_t i = 0; i + 1 < t.size(); ++i) {
    int order = std::min(int(i) + 1, max_order);
    if (order == 1) {
      C.push_back({});
      continue;
    }
    double a = t[i], b = t[i + 1], dtau = (b - a) / N;
    std::vector<double> prev(static_cast<size_t>(order));
    for (int k = 0; k < order; ++k) prev[k] = t[i - k];
    std::vector<double> coeff(static_cast<size_t>(order), 0.0);
    for (int q = 0; q < N; ++q) {
      double tau = a + (b - a) * double(q) / double(N - 1);
      double alpha = std::exp(-0.5 * tau * tau * (b1 - b0) - tau * b0);
      double dlog = -tau * (b1 - b0) - b0;
      double integrand = -0.5 * dlog / std::sqrt(alpha * (1 - alpha));
      for (int j = 0; j < order; ++j) {
        double poly = 1;
        for (int k = 0; k < order; ++k)
          if (k != j) poly *= (tau - prev[k]) / (prev[j] - prev[k]);
        coeff[j] += integrand * poly;
      }
    }
    for (auto& c : coeff) c *= dtau;
    C.push_back(coeff);
  }
  return C;
}
}  // namespace

Tensor sample_deis(Run& r, Tensor x, const std::vector<float>& sig) {
  const int max_order = 3;
  auto C = deis_coeffs(sig, max_order);
  const Tensor x_start = x;
  Tensor xn = x;
  std::deque<Tensor> buf;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double tc = sig[i], tn = sig[i + 1];
    Tensor xc = xn;
    Tensor den = r.denoise(xc, tc);
    r.callback(int(i), x_start, den, tc);
    Tensor d = to_d(r, xc, tc, den);
    int order = std::min(max_order, int(i) + 1);
    if (tn <= 0) order = 1;
    size_t b = buf.size();
    if (order == 1) {
      xn = r.lin({{1.0, &xc}, {tn - tc, &d}});
    } else {
      std::vector<std::pair<double, const Tensor*>> terms{{1.0, &xc}, {C[i][0], &d}};
      for (int k = 1; k < order; ++k) terms.push_back({C[i][size_t(k)], &buf[b - size_t(k)]});
      xn = r.lin(terms);
    }
    push_buffer(buf, d, max_order);
  }
  return xn;
}

// ---------------------------------------------------------------- res_multistep

namespace {
Tensor res_multistep(Run& r, Tensor x, const std::vector<float>& sig, double eta, bool cfg_pp) {
  Tensor old_den;
  double old_down = 0;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor uncond;
    Tensor den = cfg_pp ? r.denoise_cfg_pp(x, s, uncond) : r.denoise(x, s);
    auto [down, up] = ancestral_step(s, sn, eta);
    r.callback(int(i), x, den, s);
    if (down == 0.0 || !old_den.defined()) {
      if (cfg_pp) x = r.lin({{1.0, &den}, {down / s, &x}, {-down / s, &uncond}});
      else x = r.lin({{1.0 + (down - s) / s, &x}, {-(down - s) / s, &den}});
    } else {
      double t = -std::log(s), t_old = -std::log(old_down), t_next = -std::log(down),
             t_prev = -std::log(double(sig[i - 1]));
      double h = t_next - t, c2 = (t_prev - t_old) / h;
      double phi1 = std::expm1(-h) / (-h), phi2 = (phi1 - 1.0) / (-h);
      double b1 = phi1 - phi2 / c2, b2 = phi2 / c2;
      if (!std::isfinite(b1)) b1 = std::isnan(b1) ? 0.0 : b1;
      if (!std::isfinite(b2)) b2 = std::isnan(b2) ? 0.0 : b2;
      double e = std::exp(-h);
      if (cfg_pp)  // x = e * (x + den - uncond) + h * (b1 * uncond + b2 * old)
        x = r.lin({{e, &x}, {e, &den}, {h * b1 - e, &uncond}, {h * b2, &old_den}});
      else
        x = r.lin({{e, &x}, {h * b1, &den}, {h * b2, &old_den}});
    }
    if (sn > 0 && up != 0.0) {
      Tensor n = r.noise(x);
      x = r.lin({{1.0, &x}, {r.opt.s_noise * up, &n}});
    }
    old_den = cfg_pp ? uncond : den;
    old_down = down;
  }
  return x;
}
}  // namespace

Tensor sample_res_multistep(Run& r, Tensor x, const std::vector<float>& sig) {
  return res_multistep(r, x, sig, 0.0, false);
}
Tensor sample_res_multistep_cfg_pp(Run& r, Tensor x, const std::vector<float>& sig) {
  return res_multistep(r, x, sig, 0.0, true);
}
Tensor sample_res_multistep_ancestral(Run& r, Tensor x, const std::vector<float>& sig) {
  return res_multistep(r, x, sig, r.opt.eta, false);
}
Tensor sample_res_multistep_ancestral_cfg_pp(Run& r, Tensor x, const std::vector<float>& sig) {
  return res_multistep(r, x, sig, r.opt.eta, true);
}

// ---------------------------------------------------------------- gradient_estimation

namespace {
Tensor gradient_estimation(Run& r, Tensor x, const std::vector<float>& sig, bool cfg_pp) {
  const double ge_gamma = 2.0;
  Tensor old_d;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor uncond;
    Tensor den = cfg_pp ? r.denoise_cfg_pp(x, s, uncond) : r.denoise(x, s);
    Tensor d = to_d(r, x, s, cfg_pp ? uncond : den);
    r.callback(int(i), x, den, s);
    double dt = sn - s;
    if (sn == 0.0) {
      x = den;
    } else {
      std::vector<std::pair<double, const Tensor*>> terms;
      if (cfg_pp) terms = {{1.0, &den}, {sn, &d}};
      else terms = {{1.0, &x}, {dt, &d}};
      if (i >= 1) {
        terms.push_back({(ge_gamma - 1) * dt, &d});
        terms.push_back({-(ge_gamma - 1) * dt, &old_d});
      }
      x = r.lin(terms);
    }
    old_d = d;
  }
  return x;
}
}  // namespace

Tensor sample_gradient_estimation(Run& r, Tensor x, const std::vector<float>& sig) {
  return gradient_estimation(r, x, sig, false);
}
Tensor sample_gradient_estimation_cfg_pp(Run& r, Tensor x, const std::vector<float>& sig) {
  return gradient_estimation(r, x, sig, true);
}

// ---------------------------------------------------------------- er_sde

Tensor sample_er_sde(Run& r, Tensor x, const std::vector<float>& sig) {
  const int max_stage = 3;
  const double s_noise = r.opt.s_noise;
  auto scaler = [](double v) { return v * (std::exp(std::pow(v, 0.3)) + 10.0); };
  // er_lambda = exp(-half_log_snr) = sigma for an eps model
  std::vector<double> lam(sig.begin(), sig.end());
  Tensor old_den, old_den_d;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    r.callback(int(i), x, den, s);
    int stage = std::min(max_stage, int(i) + 1);
    if (sn == 0.0) {
      x = den;
    } else {
      double ls = lam[i], lt = lam[i + 1];
      double rr = scaler(lt) / scaler(ls);
      std::vector<std::pair<double, const Tensor*>> terms{{rr, &x}, {1.0 - rr, &den}};
      Tensor den_d, den_u;
      if (stage >= 2) {
        double dt = lt - ls, step = -dt / 200.0;
        double S = 0, Su = 0;
        for (int k = 0; k < 200; ++k) {
          double pos = lt + double(float(k)) * step;
          double sc = scaler(pos);
          S += 1.0 / sc;
          Su += (pos - ls) / sc;
        }
        S *= step;
        Su *= step;
        double g = 1.0 / (ls - lam[i - 1]);
        den_d = r.lin({{g, &den}, {-g, &old_den}});
        terms.push_back({dt + S * scaler(lt), &den_d});
        if (stage >= 3) {
          double gu = 1.0 / ((ls - lam[i - 2]) / 2.0);
          den_u = r.lin({{gu, &den_d}, {-gu, &old_den_d}});
          terms.push_back({dt * dt / 2.0 + Su * scaler(lt), &den_u});
        }
        old_den_d = den_d;
      }
      Tensor n;
      if (s_noise > 0) {
        n = r.noise(x);
        double v = lt * lt - ls * ls * rr * rr;
        double c = v >= 0 ? std::sqrt(v) : 0.0;
        terms.push_back({s_noise * c, &n});
      }
      x = r.lin(terms);
    }
    old_den = den;
  }
  return x;
}

// ---------------------------------------------------------------- SEEDS, exp_heun_2_x0

namespace {
double phi1(double h) { return std::expm1(h); }                   // h * phi_1(h)
double phi2(double h) { return (std::expm1(h) - h) / h; }         // h * phi_2(h)

Tensor seeds_2(Run& r, Tensor x, const std::vector<float>& sig, double eta, double s_noise, double rr,
               bool solver_phi_2) {
  const bool inject = eta > 0 && s_noise > 0;
  const double fac = 1.0 / (2 * rr);
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    r.callback(int(i), x, den, s);
    if (sn == 0.0) {
      x = den;
      continue;
    }
    double ls = -std::log(s), lt = -std::log(sn), h = lt - ls, h_eta = h * (eta + 1);
    double ls1 = ls + rr * (lt - ls), s1 = std::exp(-ls1);
    Tensor n1, n2;
    double c1 = 0;
    std::vector<std::pair<double, const Tensor*>> t2{{s1 / s * std::exp(-rr * h * eta), &x},
                                                     {-phi1(-rr * h_eta), &den}};
    if (inject) {
      c1 = std::sqrt(-std::expm1(-2 * rr * h * eta));
      n1 = r.noise(x);
      t2.push_back({c1 * s1 * s_noise, &n1});
    }
    Tensor x2 = r.lin(t2);
    Tensor den2 = r.denoise(x2, s1);
    std::vector<std::pair<double, const Tensor*>> t3{{sn / s * std::exp(-h * eta), &x}};
    if (!solver_phi_2) {  // denoised_d = lerp(den, den2, fac)
      double p = -phi1(-h_eta);
      t3.push_back({p * (1 - fac), &den});
      t3.push_back({p * fac, &den2});
    } else {
      double b2 = phi2(-h_eta) / rr, b1 = phi1(-h_eta) - b2;
      t3.push_back({-b1, &den});
      t3.push_back({-b2, &den2});
    }
    if (inject) {
      double seg = (rr - 1) * h * eta;
      double c2 = std::sqrt(std::max(0.0, -std::expm1(2 * seg)));
      n2 = r.noise(x);
      t3.push_back({std::exp(seg) * c1 * sn * s_noise, &n1});
      t3.push_back({c2 * sn * s_noise, &n2});
    }
    x = r.lin(t3);
  }
  return x;
}
}  // namespace

Tensor sample_seeds_2(Run& r, Tensor x, const std::vector<float>& sig) {
  return seeds_2(r, x, sig, r.opt.eta, r.opt.s_noise, 0.5, false);
}
Tensor sample_exp_heun_2_x0(Run& r, Tensor x, const std::vector<float>& sig) {
  return seeds_2(r, x, sig, 0.0, 0.0, 1.0, true);
}
Tensor sample_exp_heun_2_x0_sde(Run& r, Tensor x, const std::vector<float>& sig) {
  return seeds_2(r, x, sig, r.opt.eta, r.opt.s_noise, 1.0, true);
}

Tensor sample_seeds_3(Run& r, Tensor x, const std::vector<float>& sig) {
  const double eta = r.opt.eta, s_noise = r.opt.s_noise, r1 = 1.0 / 3, r2 = 2.0 / 3;
  const bool inject = eta > 0 && s_noise > 0;
  for (size_t i = 0; i + 1 < sig.size(); ++i) {
    double s = sig[i], sn = sig[i + 1];
    Tensor den = r.denoise(x, s);
    r.callback(int(i), x, den, s);
    if (sn == 0.0) {
      x = den;
      continue;
    }
    double ls = -std::log(s), lt = -std::log(sn), h = lt - ls, h_eta = h * (eta + 1);
    double s1 = std::exp(-(ls + r1 * (lt - ls))), s2 = std::exp(-(ls + r2 * (lt - ls)));
    // Step 1
    Tensor sde;  // the running SDE noise (a tensor combination of the draws)
    std::vector<std::pair<double, const Tensor*>> t2{{s1 / s * std::exp(-r1 * h * eta), &x},
                                                     {-phi1(-r1 * h_eta), &den}};
    Tensor n1, n2, n3;
    if (inject) {
      n1 = r.noise(x);
      sde = r.lin({{std::sqrt(-std::expm1(-2 * r1 * h * eta)), &n1}});
      t2.push_back({s1 * s_noise, &sde});
    }
    Tensor x2 = r.lin(t2);
    Tensor den2 = r.denoise(x2, s1);
    // Step 2
    double a32 = r2 / r1 * phi2(-r2 * h_eta), a31 = phi1(-r2 * h_eta) - a32;
    std::vector<std::pair<double, const Tensor*>> t3{
        {s2 / s * std::exp(-r2 * h * eta), &x}, {-a31, &den}, {-a32, &den2}};
    if (inject) {
      double seg = (r1 - r2) * h * eta;
      n2 = r.noise(x);
      sde = r.lin({{std::exp(seg), &sde}, {std::sqrt(std::max(0.0, -std::expm1(2 * seg))), &n2}});
      t3.push_back({s2 * s_noise, &sde});
    }
    Tensor x3 = r.lin(t3);
    Tensor den3 = r.denoise(x3, s2);
    // Step 3
    double b3 = phi2(-h_eta) / r2, b1 = phi1(-h_eta) - b3;
    std::vector<std::pair<double, const Tensor*>> t4{{sn / s * std::exp(-h * eta), &x}, {-b1, &den}, {-b3, &den3}};
    if (inject) {
      double seg = (r2 - 1) * h * eta;
      n3 = r.noise(x);
      sde = r.lin({{std::exp(seg), &sde}, {std::sqrt(std::max(0.0, -std::expm1(2 * seg))), &n3}});
      t4.push_back({sn * s_noise, &sde});
    }
    x = r.lin(t4);
  }
  return x;
}

}  // namespace vkdream::sampling::detail
