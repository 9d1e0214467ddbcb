// Test support for the conditioning/CFG/KSampler tests: a small fake UNet built from GPU ops
// (one cross-attention of the latent pixels over the context tokens plus a timestep-dependent
// skip term) with its double-precision CPU twin, and a CPU reference of ComfyUI's
// process_conds + calc_cond_batch + cfg_function written from comfy/samplers.py.
#pragma once
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sampling/cfg.h"
#include "sampling/model_sampling.h"

namespace vkdream::test {

constexpr int64_t kFakeChannels = 4;  // latent channels == context width of the fake UNet

// eps = attention(q = x_in pixels [N, h*w, 4], k = v = context [N, L, 4], 1 head) + x_in * (0.3 + t/2000)
sampling::EpsFn fake_eps(int* calls = nullptr);

// A dense [d0, d1, d2, d3] (or lower-rank) array of doubles.
struct RefTensor {
  std::vector<int64_t> shape;
  std::vector<double> v;
  double at(int64_t b, int64_t c, int64_t y, int64_t x) const {
    return v[size_t(((b * shape[1] + c) * shape[2] + y) * shape[3] + x)];
  }
};
RefTensor ref_from(const std::vector<float>& v, std::vector<int64_t> shape);

// The CPU twin of fake_eps for one batch row: x_in [C, h, w] (row b of the input), ctx [L, 4].
std::vector<double> ref_fake_eps_row(const std::vector<double>& x_in, int64_t h, int64_t w,
                                     const std::vector<double>& ctx, int64_t L, double t);

// A resolved conditioning entry for the reference (latent-size mask, integer area, sigma range).
struct RefCond {
  RefTensor ctx;                                  // [Bc, L, 4]
  std::optional<std::array<int64_t, 4>> area;     // (h, w, y, x)
  double strength = 1.0;
  std::optional<RefTensor> mask;                  // [Bm, H, W]
  double mask_strength = 1.0;
  double sigma_start = 999999999.9, sigma_end = 0.0;
};

// torch.nn.functional.interpolate(mode='bilinear', align_corners=False) of [N, H, W] planes.
RefTensor ref_bilinear(const RefTensor& m, int64_t out_h, int64_t out_w);

// create_cond_with_same_area_if_none both ways (positive first), in place.
void ref_pair_areas(std::vector<RefCond>& positive, std::vector<RefCond>& negative);

// calc_cond_batch for one side (nullptr: zeros) at x [B, C, H, W] and sigma.
RefTensor ref_calc_side(const std::vector<RefCond>* conds, const RefTensor& x, double sigma,
                        const sampling::ModelSamplingDiscrete& ms);

// sampling_function: uncond + (cond - uncond) * cfg, the uncond side skipped at cfg 1 unless
// `need_uncond`; `uncond_out` receives the uncond prediction.
RefTensor ref_guided(const std::vector<RefCond>& positive, const std::vector<RefCond>& negative, const RefTensor& x,
                     double sigma, double cfg, const sampling::ModelSamplingDiscrete& ms, bool need_uncond = false,
                     RefTensor* uncond_out = nullptr);

// |got - want| <= atol + rtol * |want| everywhere; reports the worst element.
::testing::AssertionResult ref_close(const std::vector<float>& got, const RefTensor& want, double atol, double rtol,
                                     const std::string& what, double* max_err = nullptr);

}  // namespace vkdream::test
