// DoRA: ComfyUI v0.8.0's weight_decompose (comfy/weight_adapter/base.py), shared by LoRA, LoHa and LoKr:
//   lora_diff *= alpha;  weight_calc = weight + lora_diff
//   output axis (dora_scale.shape[0] == weight.shape[0]): norm = ||weight|| per output channel (the weight
//     before this patch, not weight_calc: that is what v0.8.0 computes)
//   input axis (LyCORIS' default, dora_scale [1, in, 1, ...]): norm = ||weight_calc|| per input channel, over
//     the output channels and the kernel (transpose(0, 1).reshape(in, -1))
//   norm += finfo(float32).eps;  weight_calc *= dora_scale / norm
//   strength == 1: weight = weight_calc, else weight += strength * (weight_calc - weight).
#include <string>

#include "model/lora_adapters.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/row_norm.h"

namespace vkdream::model::lora_adapters {
namespace {

// torch.finfo(torch.float32).eps: the patch is computed on an f32 copy of the weight.
constexpr float kEps = 1.1920928955078125e-07f;

bool output_axis(const TensorInfo& dora, const std::vector<int64_t>& weight_shape) {
  return !dora.shape.empty() && dora.shape[0] == weight_shape[0];
}

}  // namespace

std::string dora_shape_error(const TensorInfo& dora, const std::vector<int64_t>& ws) {
  if (ws.empty() || dora.shape.empty()) return "dora_scale " + dora.name + " and the weight need at least one dim";
  std::vector<int64_t> norm(ws.size(), 1);
  if (output_axis(dora, ws)) {
    norm[0] = ws[0];
  } else {
    if (ws.size() < 2) return "dora_scale " + dora.name + " on the input axis of a 1-D weight";
    norm[1] = ws[1];
  }
  // dora_scale / norm must keep norm's shape (torch would broadcast anything else into another shape).
  if (dora.shape.size() > norm.size()) return "dora_scale " + dora.name + " has more dims than the weight";
  const size_t lead = norm.size() - dora.shape.size();
  for (size_t i = 0; i < dora.shape.size(); ++i)
    if (dora.shape[i] != norm[lead + i] && dora.shape[i] != 1)
      return "dora_scale " + dora.name + " does not broadcast to the weight norm's shape";
  if (dora.numel() != (output_axis(dora, ws) ? ws[0] : ws[1]))
    return "dora_scale " + dora.name + " does not broadcast to the weight norm's shape";
  return "";
}

Tensor weight_decompose(vk::Stream& s, const Tensor& w, const Tensor& diff, double alpha, double strength,
                        const SafetensorsFile& f, const TensorInfo& dora_scale, const std::vector<int64_t>& ws) {
  const int64_t out = w.dim(0), rest = w.numel() / out;
  Tensor d = diff.reshape({out, rest});
  if (alpha != 1.0) d = ops::scale(s, d, float(alpha));
  Tensor calc = ops::add(s, w, d);  // [out, rest]
  Tensor dora = from_host(s, {dora_scale.numel()}, DType::F32, f.to_float(dora_scale));
  if (output_axis(dora_scale, ws)) {
    Tensor norm = ops::row_l2_norm(s, w, kEps).reshape({out, 1});
    calc = ops::mul(s, calc, ops::div(s, dora.reshape({out, 1}), norm));
  } else {
    const int64_t in = ws[1], kk = rest / in;
    Tensor c3 = calc.reshape({out, in, kk});
    Tensor norm = ops::row_l2_norm(s, ops::permute(s, c3, {1, 0, 2}), kEps).reshape({1, in, 1});
    calc = ops::mul(s, c3, ops::div(s, dora.reshape({1, in, 1}), norm)).reshape({out, rest});
  }
  if (strength == 1.0) return calc;
  return ops::add(s, w, ops::scale(s, ops::sub(s, calc, w), float(strength)));
}

}  // namespace vkdream::model::lora_adapters
