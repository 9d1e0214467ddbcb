// LoHa (comfy/weight_adapter/loha.py LoHaAdapter.calculate_weight): diff = m1 * m2 (elementwise) with
// m1 = w1a @ w1b, m2 = w2a @ w2b, or with the CP (tucker) cores t1, t2
// m1 = einsum('i j k l, j r, i p -> p r k l', t1, w1b, w1a) and likewise m2. Scale alpha / w1b.shape[0].
#include <string>

#include "model/lora_adapters.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"

namespace vkdream::model::lora_adapters {
namespace {

DiffShape product_shape(const TensorInfo& a, const TensorInfo& b) {
  if (a.shape.size() != 2 || b.shape.size() != 2) return {{}, a.name + " and " + b.name + " must be 2-D"};
  if (a.shape[1] != b.shape[0]) return {{}, a.name + " @ " + b.name + ": inner dims differ"};
  return {{a.shape[0], b.shape[1]}, ""};
}

}  // namespace

DiffShape loha_diff_shape(const LoraModule& m) {
  const LoHaTensors& h = m.hada;
  DiffShape m1 = h.t1 ? tucker_shape(*h.t1, *h.w1_b, *h.w1_a) : product_shape(*h.w1_a, *h.w1_b);
  DiffShape m2 = h.t1 ? tucker_shape(*h.t2, *h.w2_b, *h.w2_a) : product_shape(*h.w2_a, *h.w2_b);
  if (!m1.error.empty()) return m1;
  if (!m2.error.empty()) return m2;
  if (m1.shape != m2.shape) return {{}, "the two Hadamard factors differ in shape"};
  return m1;
}

Tensor loha_diff(vk::Stream& s, const SafetensorsFile& f, const LoraModule& m) {
  const LoHaTensors& h = m.hada;
  Tensor m1 = h.t1 ? tucker_rebuild(s, f, *h.t1, *h.w1_b, *h.w1_a)
                   : ops::matmul(s, upload_matrix(s, f, *h.w1_a), upload_matrix(s, f, *h.w1_b));
  Tensor m2 = h.t1 ? tucker_rebuild(s, f, *h.t2, *h.w2_b, *h.w2_a)
                   : ops::matmul(s, upload_matrix(s, f, *h.w2_a), upload_matrix(s, f, *h.w2_b));
  return ops::mul(s, m1, m2);
}

}  // namespace vkdream::model::lora_adapters
