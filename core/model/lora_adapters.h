// The weight differences of ComfyUI's weight adapters (comfy/weight_adapter/{lora,loha,lokr}.py) and its
// DoRA weight_decompose (base.py), on the GPU in f32. Internal to lora.cpp; one file per adapter kind.
//
// Every difference comes back as f32 [rows, cols], the row-major data of the tensor torch computes before
// its `.reshape(weight.shape)`: only the element count has to match the weight (as in ComfyUI), and the
// caller reshapes it to the weight's matrix.
#pragma once
#include <string>
#include <vector>

#include "model/lora.h"
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::model::lora_adapters {

// The shape torch gives a module's difference, or `error` saying why torch would fail on it.
struct DiffShape {
  std::vector<int64_t> shape;
  std::string error;
};

// Product of the dims after the first (1 for rank <= 1).
int64_t flat_cols(const TensorInfo& t);
// `t` as f32 [shape[0], rest] on the device (a scalar as [1, 1]).
Tensor upload_matrix(vk::Stream& s, const SafetensorsFile& f, const TensorInfo& t);
// The CP/tucker rebuild einsum('i j k l, j r, i p -> p r k l', t, wb, wa) of LoHa and LoKr:
// t [i, j, k, l], wb [j, r], wa [i, p] -> f32 [p, r * k * l].
Tensor tucker_rebuild(vk::Stream& s, const SafetensorsFile& f, const TensorInfo& t, const TensorInfo& wb,
                      const TensorInfo& wa);
DiffShape tucker_shape(const TensorInfo& t, const TensorInfo& wb, const TensorInfo& wa);

// LoRA / LoCon: up.flatten(1) @ down.flatten(1), with LoCon's mid folded into down first.
DiffShape locon_diff_shape(const LoraModule& m);
Tensor locon_diff(vk::Stream& s, const SafetensorsFile& f, const LoraModule& m);

// LoHa: (w1a @ w1b) * (w2a @ w2b), or the two tucker rebuilds multiplied.
DiffShape loha_diff_shape(const LoraModule& m);
Tensor loha_diff(vk::Stream& s, const SafetensorsFile& f, const LoraModule& m);

// LoKr: kron(w1, w2), each factor full or a @ b (w2 also tucker), w1 widened to 4-D when w2 is 4-D.
DiffShape lokr_diff_shape(const LoraModule& m);
Tensor lokr_diff(vk::Stream& s, const SafetensorsFile& f, const LoraModule& m);

// ComfyUI's weight_decompose for a weight of `weight_shape` (>= 1-D): whether `dora_scale` works on it
// (empty) or why torch would fail. Output axis when dora_scale.shape[0] == weight_shape[0], else the
// input axis (needs >= 2 dims); dora_scale must broadcast to the norm's shape ([out, 1, ...] or [1, in, 1, ...]).
std::string dora_shape_error(const TensorInfo& dora_scale, const std::vector<int64_t>& weight_shape);

// weight_decompose on w (f32 [rows, rest], the weight so far, of `weight_shape`) and diff (f32, as many
// elements): Wc = w + alpha * diff; norm = ||w|| per output channel (output axis; ComfyUI v0.8.0 takes the
// unpatched weight's norm there) or ||Wc|| per input channel (over out and the kernel), plus f32 eps;
// Wc *= dora_scale / norm; the result is Wc at strength 1, else w + strength * (Wc - w). f32 [rows, rest].
Tensor weight_decompose(vk::Stream& s, const Tensor& w, const Tensor& diff, double alpha, double strength,
                        const SafetensorsFile& f, const TensorInfo& dora_scale,
                        const std::vector<int64_t>& weight_shape);

}  // namespace vkdream::model::lora_adapters
