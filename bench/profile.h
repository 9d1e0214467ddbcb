// GPU time per shader of a stream's last submit (the stream must be made with profiling on): what
// `vkdream-bench unet --profile` and `vkdream-bench ops --profile` print under each stage or op.
#pragma once
#include "vulkan/stream.h"

namespace vkdream::bench {

// Totals by shader label, largest first (at most `max_rows` rows); with `in_order`, also every dispatch in
// submission order (to tell apart two calls of one shader, e.g. attention's Q K^T and P V products).
void print_profile(const vk::Stream& s, const char* stage, size_t max_rows = 12, bool in_order = false);
// Totals by shader and dispatch shape (workgroup counts and the first push-constant words: M, N, K/4 for the
// texel GEMM), largest first: which products of a stage take the time (`vkdream-bench unet --profile-shapes`).
void print_profile_shapes(const vk::Stream& s, const char* stage, size_t max_rows = 40);

}  // namespace vkdream::bench
