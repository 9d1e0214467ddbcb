// Softmax over the last dimension.
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// softmax over the last dim, numerically stable (max subtracted), f32 accumulation.
// Any rank >= 1, f32 or f16; the output has x's shape and dtype.
Tensor softmax(vk::Stream& s, const Tensor& x);
// Causal softmax over score rows: row r is query (r % block_rows) + first_query and sees keys
// 0..query only (CLIP's mask); masked keys get probability 0.
Tensor softmax_causal(vk::Stream& s, const Tensor& x, int64_t block_rows, int64_t first_query);
// Softmax over the first `keys` entries of each row only (the others get probability 0), causal as above when
// asked: attention's scores over keys zero-padded to a multiple of 8.
Tensor softmax_keys(vk::Stream& s, const Tensor& x, int64_t keys, bool causal, int64_t block_rows,
                    int64_t first_query);

}  // namespace vkdream::ops
