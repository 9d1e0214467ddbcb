// SA-Solver, ComfyUI's stochastic Adams solver (comfy/k_diffusion/sa_solver.py and sample_sa_solver /
// sample_sa_solver_pece in sampling.py; arXiv:2309.05019), for an eps model: half-logSNR
// lambda = -log(sigma), alpha = 1.
//
// The scalar side is here so tests can check it: the b coefficients are integrals of the Lagrange
// bases through the previous lambdas against the exponential weight of the SDE's variation of
// constants. ComfyUI computes them on its float32 sigma tensors (lambdas, the Vandermonde solve, all
// float32); we take the same float32 lambdas and do the rest in double, which is the value ComfyUI's
// float32 arithmetic approximates (its rounding, amplified by the Vandermonde solve, moves single b's
// by up to ~1e-3 at 20-30 steps, ~1e-4 of sum |b|; LAPACK's operation order cannot be replayed).
#pragma once
#include <vector>

#include "sampling/model_sampling.h"
#include "sampling/sampler_context.h"

namespace vkdream::sampling::sa_solver {

// compute_exponential_coeffs: (1 + tau^2) * integral_s^t exp((1 + tau^2)(x - t)) x^p dx for
// p = 0 .. order-1 (the exp((1 + tau^2) t) factor taken out), by integration by parts.
std::vector<double> exponential_coeffs(double s, double t, int order, double tau);

// compute_stochastic_adams_b_coeffs: the weights b_j of the denoised predictions at `lambdas`
// (oldest first) for a step lambda_s -> lambda_t ending at sigma_next: sigma_next * exp(lambda_t) *
// (1 + tau^2) * integral_s^t exp((1 + tau^2)(x - t)) l_j(x) dx. With simple_order_2 and two lambdas,
// the paper's simplified order-2 formulas (Appendix D) instead, which differ for the corrector.
std::vector<double> b_coeffs(double sigma_next, const std::vector<double>& lambdas, double lambda_s, double lambda_t,
                             double tau, bool simple_order_2 = false, bool corrector = false);

// get_tau_interval_func: eta while start_sigma >= sigma >= end_sigma, else 0 (always 0 when eta <= 0).
struct TauInterval {
  double start_sigma = 0, end_sigma = 0, eta = 1.0;
  double operator()(double sigma) const { return eta > 0 && start_sigma >= sigma && sigma >= end_sigma ? eta : 0.0; }
};
// ModelSamplingDiscrete.percent_to_sigma (float32 timestep, interpolated float32 log sigma).
double percent_to_sigma(const ModelSamplingDiscrete& ms, double percent);
// sample_sa_solver's default: percent_to_sigma(0.2) .. percent_to_sigma(0.8).
TauInterval default_tau(const ModelSamplingDiscrete& ms, double eta);

// The orders step i uses (sample_sa_solver's rules: no corrector on step 0 nor, without PECE, on a
// step to sigma 0; orders drop near the end when the schedule ends at 0). `history` is the number
// of denoised predictions kept after step i's evaluation.
struct StepOrders {
  int predictor = 0, corrector = 0;
};
StepOrders step_orders(int i, int history, const std::vector<float>& sigmas, int predictor_order, int corrector_order,
                       bool use_pece);

// -log(sigma) in float32, as sigma_to_half_log_snr does on ComfyUI's float32 sigmas.
std::vector<double> half_log_snr(const std::vector<float>& sigmas);

}  // namespace vkdream::sampling::sa_solver

namespace vkdream::sampling::detail {
Tensor sample_sa_solver(Run&, Tensor, const std::vector<float>&);
Tensor sample_sa_solver_pece(Run&, Tensor, const std::vector<float>&);
}  // namespace vkdream::sampling::detail
