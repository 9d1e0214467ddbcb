// LoKr (comfy/weight_adapter/lokr.py LoKrAdapter.calculate_weight): diff = kron(w1, w2), w1 = lokr_w1 or
// lokr_w1_a @ lokr_w1_b, w2 = lokr_w2 or lokr_w2_a @ lokr_w2_b or, with lokr_t2,
// einsum('i j k l, j r, i p -> p r k l', t2, w2_b, w2_a); a 4-D w2 makes w1 [o1, i1, 1, 1]. Either way the
// result's row-major data is that of kron([o1, i1], [o2, rest2]), which is what we compute:
// out[a*o2 + b, c*rest2 + d] = w1[a, c] * w2[b, d], a broadcast product [o1, 1, i1, 1] * [1, o2, 1, rest2].
#include <string>

#include "model/lora_adapters.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"

namespace vkdream::model::lora_adapters {
namespace {

DiffShape factor_shape(const TensorInfo* full, const TensorInfo* a, const TensorInfo* b, const char* which) {
  if (full) return {full->shape, ""};
  if (!a || !b) return {{}, std::string("lokr_") + which + " is missing (neither full nor a/b factors)"};
  if (a->shape.size() != 2 || b->shape.size() != 2 || a->shape[1] != b->shape[0])
    return {{}, a->name + " @ " + b->name + ": needs 2-D factors with matching inner dims"};
  return {{a->shape[0], b->shape[1]}, ""};
}

}  // namespace

DiffShape lokr_diff_shape(const LoraModule& m) {
  const LoKrTensors& k = m.lokr;
  DiffShape w1 = factor_shape(k.w1, k.w1_a, k.w1_b, "w1");
  if (!w1.error.empty()) return w1;
  DiffShape w2 = !k.w2 && k.t2 && k.w2_a && k.w2_b ? tucker_shape(*k.t2, *k.w2_b, *k.w2_a)
                                                   : factor_shape(k.w2, k.w2_a, k.w2_b, "w2");
  if (!w2.error.empty()) return w2;
  // kron of a 4-D w1 (or a 3-D factor) lays its elements out differently: LyCORIS never writes one.
  if (w1.shape.size() != 2) return {{}, "lokr_w1 must be 2-D"};
  if (w2.shape.size() != 2 && w2.shape.size() != 4) return {{}, "lokr_w2 must be 2-D or 4-D"};
  std::vector<int64_t> shape = {w1.shape[0] * w2.shape[0], w1.shape[1] * w2.shape[1]};
  for (size_t i = 2; i < w2.shape.size(); ++i) shape.push_back(w2.shape[i]);
  return {shape, ""};
}

Tensor lokr_diff(vk::Stream& s, const SafetensorsFile& f, const LoraModule& m) {
  const LoKrTensors& k = m.lokr;
  Tensor w1 =
      k.w1 ? upload_matrix(s, f, *k.w1) : ops::matmul(s, upload_matrix(s, f, *k.w1_a), upload_matrix(s, f, *k.w1_b));
  Tensor w2 = k.w2   ? upload_matrix(s, f, *k.w2)
              : k.t2 ? tucker_rebuild(s, f, *k.t2, *k.w2_b, *k.w2_a)
                     : ops::matmul(s, upload_matrix(s, f, *k.w2_a), upload_matrix(s, f, *k.w2_b));
  const int64_t o1 = w1.dim(0), i1 = w1.dim(1), o2 = w2.dim(0), r2 = w2.dim(1);
  Tensor kron = ops::mul(s, w1.reshape({o1, 1, i1, 1}), w2.reshape({1, o2, 1, r2}));  // [o1, o2, i1, r2]
  return kron.reshape({o1 * o2, i1 * r2});
}

}  // namespace vkdream::model::lora_adapters
