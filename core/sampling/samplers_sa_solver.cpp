// sa_solver and sa_solver_pece: ComfyUI's stochastic Adams predictor-corrector (see sa_solver.h).
#include "sampling/sa_solver.h"
#include "sampling/linear_solve.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <stdexcept>

namespace vkdream::sampling::sa_solver {

std::vector<double> exponential_coeffs(double s, double t, int order, double tau) {
  const double a = 1.0 + tau * tau, h = t - s, decay = std::exp(-a * h);
  std::vector<double> terms(static_cast<size_t>(order)), out(static_cast<size_t>(order), 0.0);
  for (int q = 0; q < order; ++q) terms[size_t(q)] = std::pow(t, q) - std::pow(s, q) * decay;
  // I_p = sum_q (-1)^(p-q) p!/q! a^(q-p) terms[q]: the recursion I_p = terms[p] - (p/a) I_{p-1} unrolled.
  for (int p = 0; p < order; ++p) {
    double c = 1.0;  // (-1)^(p-q) p!/q! a^(q-p), from q = p downwards
    for (int q = p; q >= 0; --q) {
      out[size_t(p)] += c * terms[size_t(q)];
      c *= -double(q) / a;
    }
  }
  return out;
}

namespace {
// Solves sum_j lambdas[j]^p c_j = rhs[p] (the transposed Vandermonde system).
std::vector<double> solve_vandermonde_t(const std::vector<double>& lambdas, std::vector<double> rhs) {
  const size_t n = lambdas.size();
  std::vector<std::vector<double>> m(n, std::vector<double>(n));
  for (size_t p = 0; p < n; ++p)
    for (size_t j = 0; j < n; ++j) m[p][j] = std::pow(lambdas[j], double(p));
  return solve_linear(std::move(m), std::move(rhs), "sa_solver: repeated lambdas make the Lagrange basis");
}
}  // namespace

std::vector<double> b_coeffs(double sigma_next, const std::vector<double>& lambdas, double lambda_s, double lambda_t,
                             double tau, bool simple_order_2, bool corrector) {
  const double a = 1.0 + tau * tau, h = lambda_t - lambda_s;
  const double alpha_t = sigma_next * std::exp(lambda_t);
  if (simple_order_2 && lambdas.size() == 2) {
    double b_old, b_new;  // weights of lambdas[0], lambdas[1]
    if (corrector) {
      b_new = alpha_t * (0.5 * a * h);
      b_old = alpha_t * -std::expm1(-h * a) - b_new;
    } else {
      b_old = alpha_t * (0.5 * a * h * h) / (lambdas[0] - lambda_s);
      b_new = alpha_t * -std::expm1(-h * a) - b_old;
    }
    return {b_old, b_new};
  }
  const int order = int(lambdas.size());
  std::vector<double> c = solve_vandermonde_t(lambdas, exponential_coeffs(lambda_s, lambda_t, order, tau));
  for (double& v : c) v *= alpha_t;
  return c;
}

double percent_to_sigma(const ModelSamplingDiscrete& ms, double percent) {
  if (percent <= 0.0) return 999999999.9;
  if (percent >= 1.0) return 0.0;
  return double(ms.sigma(float((1.0 - percent) * 999.0)));
}

TauInterval default_tau(const ModelSamplingDiscrete& ms, double eta) {
  return TauInterval{percent_to_sigma(ms, 0.2), percent_to_sigma(ms, 0.8), eta};
}

StepOrders step_orders(int i, int history, const std::vector<float>& sigmas, int predictor_order, int corrector_order,
                       bool use_pece) {
  const int len = int(sigmas.size());
  StepOrders o;
  o.predictor = std::min(predictor_order, history);
  const bool to_zero = sigmas[size_t(i) + 1] == 0.0f;
  o.corrector = (i == 0 || (to_zero && !use_pece)) ? 0 : std::min(corrector_order, history);
  if (sigmas.back() == 0.0f) {  // lower the order near the end for stability
    o.predictor = std::min(o.predictor, len - 2 - i);
    o.corrector = std::min(o.corrector, len - 1 - i);
  }
  return o;
}

std::vector<double> half_log_snr(const std::vector<float>& sigmas) {
  std::vector<double> out;
  out.reserve(sigmas.size());
  for (float s : sigmas) out.push_back(double(-std::log(s)));
  return out;
}

}  // namespace vkdream::sampling::sa_solver

namespace vkdream::sampling::detail {

namespace {
using namespace sa_solver;

Tensor sa_solver_run(Run& r, Tensor x, const std::vector<float>& sig, bool use_pece) {
  const int predictor_order = 3, corrector_order = 4;
  const bool simple_order_2 = false;
  // KSampler passes no tau_func: the default interval of the SD1.x schedule, eta 1 (opt.eta's default).
  static const ModelSamplingDiscrete ms;
  const TauInterval tau_func = default_tau(ms, r.opt.eta);
  const double s_noise = r.opt.s_noise;
  const std::vector<double> lambdas = half_log_snr(sig);
  const size_t max_used_order = size_t(std::max(predictor_order, corrector_order));

  Tensor x_pred = x;  // x: current (corrected) state, x_pred: predicted next state
  double h = 0.0, tau_t = 0.0;
  Tensor noise;  // the previous predictor's draw; it entered x_pred as noise_scale * noise
  double noise_scale = 0.0;
  std::deque<Tensor> preds;
  auto window = [&](int i, int k) {  // the k lambdas up to step i, oldest first
    return std::vector<double>(lambdas.begin() + (i - k + 1), lambdas.begin() + i + 1);
  };
  auto add_preds = [&](std::vector<std::pair<double, const Tensor*>>& terms, const std::vector<double>& b) {
    for (size_t j = 0; j < b.size(); ++j) terms.push_back({b[j], &preds[preds.size() - b.size() + j]});
  };

  for (int i = 0; i + 1 < int(sig.size()); ++i) {
    const double s = sig[size_t(i)], sn = sig[size_t(i) + 1];
    Tensor den = r.denoise(x_pred, s);
    r.callback(i, x_pred, den, s);
    preds.push_back(den);
    if (preds.size() > max_used_order) preds.pop_front();
    StepOrders o = step_orders(i, int(preds.size()), sig, predictor_order, corrector_order, use_pece);

    // Corrector: redo the previous step with the new prediction among the interpolation points.
    if (o.corrector == 0) {
      x = x_pred;
    } else {
      auto b = b_coeffs(s, window(i, o.corrector), lambdas[size_t(i) - 1], lambdas[size_t(i)], tau_t, simple_order_2,
                        true);
      std::vector<std::pair<double, const Tensor*>> terms{
          {s / double(sig[size_t(i) - 1]) * std::exp(-(tau_t * tau_t) * h), &x}};
      add_preds(terms, b);
      if (tau_t > 0 && s_noise > 0) terms.push_back({noise_scale, &noise});
      x = r.lin(terms);
      if (use_pece) {  // evaluate the corrected state
        den = r.denoise(x, s);
        preds.back() = den;
      }
    }

    // Predictor
    if (sn == 0.0) {
      x_pred = den;
    } else {
      tau_t = tau_func(sn);
      auto b = b_coeffs(sn, window(i, o.predictor), lambdas[size_t(i)], lambdas[size_t(i) + 1], tau_t, simple_order_2,
                        false);
      h = lambdas[size_t(i) + 1] - lambdas[size_t(i)];
      std::vector<std::pair<double, const Tensor*>> terms{{sn / s * std::exp(-(tau_t * tau_t) * h), &x}};
      add_preds(terms, b);
      if (tau_t > 0 && s_noise > 0) {
        noise = r.noise(x);
        noise_scale = sn * std::sqrt(-std::expm1(-2.0 * tau_t * tau_t * h)) * s_noise;
        terms.push_back({noise_scale, &noise});
      }
      x_pred = r.lin(terms);
    }
  }
  return x_pred;
}
}  // namespace

Tensor sample_sa_solver(Run& r, Tensor x, const std::vector<float>& sig) { return sa_solver_run(r, x, sig, false); }
Tensor sample_sa_solver_pece(Run& r, Tensor x, const std::vector<float>& sig) {
  return sa_solver_run(r, x, sig, true);
}

}  // namespace vkdream::sampling::detail
