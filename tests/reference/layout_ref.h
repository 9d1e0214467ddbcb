// Naive CPU references for the layout, resize and embedding ops, in double (index math for the
// resizes in f32, as PyTorch does it, so the same source pixels are picked).
#pragma once
#include <cstdint>
#include <vector>

#include "ops/resize.h"
#include "tensor/tensor.h"

namespace vkdream::test {

std::vector<double> ref_concat(const std::vector<std::vector<float>>& parts, const std::vector<Shape>& shapes, int dim);
std::vector<double> ref_permute(const std::vector<float>& x, const Shape& shape, const std::vector<int>& perm);
std::vector<double> ref_slice(const std::vector<float>& x, const Shape& shape, int dim, int64_t begin, int64_t end);

// Output element `index` of resize(x [N, C, H, W] -> [N, C, out_h, out_w]).
double ref_resize_at(const std::vector<float>& x, const Shape& shape, int64_t out_h, int64_t out_w,
                     ops::ResizeMode mode, int64_t index);
std::vector<double> ref_upsample_nearest2x(const std::vector<float>& x, const Shape& shape);

// out[b, l, :] = table[clamp(ids[b, l], 0, V - 1), :] (+ positions[l, :] when given).
std::vector<double> ref_embedding(const std::vector<int32_t>& ids, int64_t L, const std::vector<float>& table,
                                  int64_t V, int64_t D, const std::vector<float>* positions);
// LDM timestep_embedding with PyTorch's f32 rounding of the frequencies and arguments.
std::vector<double> ref_timestep_embedding(const std::vector<float>& t, int dim, float max_period);

}  // namespace vkdream::test
