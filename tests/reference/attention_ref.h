// Naive CPU references (double accumulation) for attention and softmax.
#pragma once
#include <cstdint>
#include <vector>

namespace vkdream::test {

struct AttnDims {
  int64_t B, Lq, Lk, H, D;
  bool causal;
  double scale;  // the scale actually applied (1/sqrt(D) when the op was given 0)
};

// Output row (b, i) for head h: D values. q [B, Lq, H*D], k/v [B, Lk, H*D]. O(Lk*D).
std::vector<double> attention_ref_row(const AttnDims& a, const std::vector<float>& q, const std::vector<float>& k,
                                      const std::vector<float>& v, int64_t b, int64_t i, int64_t h);
// Softmax of each row of length n.
std::vector<double> softmax_ref(const std::vector<float>& x, int64_t n);

}  // namespace vkdream::test
