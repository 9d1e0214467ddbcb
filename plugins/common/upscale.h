// comfy.utils.common_upscale on NCHW device tensors: optional center crop to the target aspect, then
// torch interpolate (nearest-exact, bilinear, area, bicubic, nearest), PIL's 8-bit lanczos or ComfyUI's bislerp.
// Shared by the latent and image packs.
#pragma once

#include <cmath>
#include <string>

#include "ops/layout.h"
#include "ops/resize.h"
#include "ops/resize_bislerp.h"
#include "ops/resize_lanczos.h"
#include "pack_util.h"

namespace vkdream::packs {

inline ops::ResizeMode resize_mode(const std::string& method) {
  if (method == "nearest-exact") return ops::ResizeMode::kNearestExact;
  if (method == "nearest") return ops::ResizeMode::kNearest;
  if (method == "bilinear") return ops::ResizeMode::kBilinear;
  if (method == "bicubic") return ops::ResizeMode::kBicubic;
  if (method == "area") return ops::ResizeMode::kArea;
  throw vkd::Error("upscale method '" + method + "' is not supported by vkdream yet", "NotImplementedError",
                   VKD_ERROR_UNSUPPORTED);
}

// Python's round() (half to even) of a double.
inline int64_t py_round(double v) { return int64_t(std::nearbyint(v)); }

inline Tensor common_upscale(vk::Stream& s, const Tensor& x, int64_t width, int64_t height, const std::string& method,
                             const std::string& crop) {
  Tensor src = x;
  if (crop == "center") {
    int64_t old_w = x.dim(-1), old_h = x.dim(-2);
    double old_aspect = double(old_w) / double(old_h), new_aspect = double(width) / double(height);
    int64_t cx = 0, cy = 0;
    if (old_aspect > new_aspect)
      cx = py_round((old_w - old_w * (new_aspect / old_aspect)) / 2);
    else if (old_aspect < new_aspect)
      cy = py_round((old_h - old_h * (old_aspect / new_aspect)) / 2);
    if (cy) src = ops::slice(s, src, -2, cy, old_h - cy);
    if (cx) src = ops::slice(s, src, -1, cx, old_w - cx);
  }
  if (width <= 0 || height <= 0) value_error("upscale to an empty size");
  if (method == "lanczos") return ops::resize_lanczos_u8(s, src, height, width);  // PIL on 8-bit, as comfy.utils
  if (method == "bislerp") return ops::resize_bislerp(s, src, height, width);      // after the crop, as comfy.utils
  return ops::resize(s, src, height, width, resize_mode(method));
}

// Rows 0..n-1 of x repeated to `rows` rows (torch .repeat on dim 0 then cut).
inline Tensor repeat_rows(vk::Stream& s, const Tensor& x, int64_t rows) {
  if (x.dim(0) == rows) return x;
  std::vector<Tensor> parts;
  for (int64_t have = 0; have < rows; have += x.dim(0))
    parts.push_back(x.slice0(0, std::min(x.dim(0), rows - have)));
  return parts.size() == 1 ? ops::copy(s, parts[0]) : ops::concat(s, parts, 0);
}

}  // namespace vkdream::packs
