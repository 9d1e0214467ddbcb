// ComfyUI's CONDITIONING as data, and process_conds: what CFGGuider does to the conditioning once
// per sampling run before the first model call (comfy/samplers.py: resolve_areas_and_cond_masks,
// calculate_start_end_timesteps, create_cond_with_same_area_if_none).
//
// A CONDITIONING is a list of entries; each entry is evaluated by the model separately and the
// predictions are averaged per latent cell, weighted by the entry's area/mask/strength (see cfg.h).
// Nodes that "combine" conditioning (ConditioningCombine) append entries; nodes that change the
// embedding (ConditioningConcat, ConditioningAverage, ConditioningZeroOut) produce new cross_attn.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "sampling/model_sampling.h"
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::sampling {

struct CondEntry {
  // The cross-attention context [1 or B, L, context_dim] (device). Batch 1 is repeated to the latent
  // batch; a larger batch is cut to it (repeat_to_batch_size).
  Tensor cross_attn;
  // pooled_output [1, width]: carried for ComfyUI parity (ConditioningAverage/Concat keep it); the
  // SD1.5 UNet ignores it.
  std::optional<Tensor> pooled;
  // ConditioningSetArea: (h, w, y, x) in latent cells (the node stores pixels // 8). The model sees
  // x cropped to the area; its prediction is pasted back weighted by `strength` and feathered over
  // up to 8 cells on every side that does not touch the latent's border (only when there is no mask).
  std::optional<std::array<int64_t, 4>> area;
  // ConditioningSetAreaPercentage: (h, w, y, x) as fractions of the latent; resolved per run to
  // (max(1, round(h*H)), max(1, round(w*W)), round(y*H), round(x*W)) (Python rounding). Takes
  // precedence over `area` when both are set (ComfyUI stores both in one key).
  std::optional<std::array<double, 4>> area_percentage;
  // Multiplies the entry's weight (ConditioningSetArea/AreaStrength/Mask "strength").
  double strength = 1.0;
  // ConditioningSetMask "mask bounds": the area becomes the bounding box of the mask's nonzero
  // cells over the batch (at least 8x8 cells; 8x8 at 0,0 for an all-zero mask).
  bool set_area_to_bounds = false;
  // ConditioningSetMask: [H, W], [1, H, W] or [Bm, H, W] at any size; bilinearly resized to the
  // latent once per run. The weight is mask * mask_strength * strength (no feathering).
  std::optional<Tensor> mask;
  double mask_strength = 1.0;
  // ConditioningSetTimestepRange: the entry is used at a model call with sigma when
  // percent_to_sigma(end_percent) <= sigma <= percent_to_sigma(start_percent). The defaults (0, 1)
  // never filter.
  double start_percent = 0.0, end_percent = 1.0;
};
using Conditioning = std::vector<CondEntry>;

// ModelSamplingDiscrete.percent_to_sigma: p <= 0 -> 999999999.9, p >= 1 -> 0, else the sigma at
// timestep (1 - p) * 999 (as a float32, log-sigma interpolated between integer timesteps).
double percent_to_sigma(const ModelSamplingDiscrete& ms, double percent);

// An entry after process_conds for a latent of h x w cells: what calc_cond_batch reads.
struct ResolvedCond {
  Tensor cross_attn;                            // as given
  std::optional<std::array<int64_t, 4>> area;   // (h, w, y, x), not yet clamped to the latent
  double strength = 1.0;
  std::optional<Tensor> mask;                   // [Bm, 1, h, w] f32, latent-sized
  double mask_strength = 1.0;
  float sigma_start = 999999999.9f;             // skipped when sigma > sigma_start
  float sigma_end = 0.0f;                       // or sigma < sigma_end
  // The weight over the clamped area for a latent of latent_h x latent_w (cond_mult), computed once
  // per run; undefined when it is exactly 1 over the whole latent.
  Tensor mult;
  int64_t latent_h = 0, latent_w = 0;
};

// The entry's area clamped to a latent of h x w cells (get_area_and_mult), nullopt without an area.
// Throws std::invalid_argument when nothing of the area is left.
std::optional<std::array<int64_t, 4>> clamp_area(const ResolvedCond& c, int64_t h, int64_t w);

// get_area_and_mult's weight before the batch repeat, [Bm or 1, 1, ah, aw] f32 over the clamped area:
// mask * mask_strength * strength (mask cropped to the area), or strength feathered over
// min(8, size // 4) cells on each side of the area that is not at the latent's border, in float32 in
// ComfyUI's order. Undefined when the weight is exactly 1 over the whole latent.
Tensor cond_mult(vk::Stream& s, const ResolvedCond& c, int64_t h, int64_t w);

struct ResolvedConds {
  std::vector<ResolvedCond> positive, negative;
};

// process_conds for a latent of h x w cells: resolves percentage areas, resizes masks (bilinear,
// align_corners=False) and their bounds, converts the timestep range to sigmas, then makes sure every
// area entry of one side has an entry with the same area on the other side (a copy of the entry that
// takes the cross_attn of the other side's smallest entry enclosing the area, or of its first entry
// without an area). Throws std::invalid_argument for malformed entries.
ResolvedConds process_conds(vk::Stream& s, const ModelSamplingDiscrete& ms, const Conditioning& positive,
                            const Conditioning& negative, int64_t h, int64_t w);

}  // namespace vkdream::sampling
