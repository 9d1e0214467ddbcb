// Embedding lookups: CLIP's token + position embedding and the LDM sinusoidal timestep embedding.
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// out[b, l, :] = table[ids[b, l], :] (+ positions[l, :]).
// ids: DType::I32 [B, L]; table [V, D] (f32/f16); positions [Lmax >= L, D] of the table's dtype,
// optional. Output [B, L, D] in the table's dtype. Ids are the caller's to validate: the shader
// clamps them into [0, V) so it never reads out of bounds. A table larger than one binding
// (CLIP ViT-L in f32: 152 MB) is bound in row ranges that fit the device's binding limit.
Tensor embedding(vk::Stream& s, const Tensor& ids, const Tensor& table, const Tensor* positions = nullptr);

// LDM timestep_embedding: t [B] (fractional allowed) -> [B, dim] in t's dtype.
// half = dim/2; freqs[i] = exp(-ln(max_period) * i / half); out = cat(cos(t*freqs), sin(t*freqs)),
// and a trailing 0 when dim is odd. Computed in f32 whatever the storage type.
Tensor timestep_embedding(vk::Stream& s, const Tensor& t, int dim, float max_period = 10000.0f);

}  // namespace vkdream::ops
