// Shared by the adapters: uploading factors as f32 matrices and the CP/tucker rebuild of LoHa and LoKr.
#include <string>

#include "model/lora_adapters.h"
#include "ops/layout.h"
#include "ops/matmul.h"

namespace vkdream::model::lora_adapters {

int64_t flat_cols(const TensorInfo& t) {
  int64_t n = 1;
  for (size_t i = 1; i < t.shape.size(); ++i) n *= t.shape[i];
  return n;
}

Tensor upload_matrix(vk::Stream& s, const SafetensorsFile& f, const TensorInfo& t) {
  const int64_t rows = t.shape.empty() ? 1 : t.shape[0];
  return from_host(s, {rows, flat_cols(t)}, DType::F32, f.to_float(t));
}

DiffShape tucker_shape(const TensorInfo& t, const TensorInfo& wb, const TensorInfo& wa) {
  if (t.shape.size() != 4 || wb.shape.size() != 2 || wa.shape.size() != 2)
    return {{}, "tucker core " + t.name + " must be 4-D and its factors 2-D"};
  if (t.shape[0] != wa.shape[0] || t.shape[1] != wb.shape[0])
    return {{}, "tucker core " + t.name + " does not match " + wa.name + " / " + wb.name};
  return {{wa.shape[1], wb.shape[1], t.shape[2], t.shape[3]}, ""};
}

Tensor tucker_rebuild(vk::Stream& s, const SafetensorsFile& f, const TensorInfo& t, const TensorInfo& wb,
                      const TensorInfo& wa) {
  const int64_t I = t.shape[0], J = t.shape[1], KL = t.shape[2] * t.shape[3];
  const int64_t R = wb.shape[1], P = wa.shape[1];
  Tensor core = from_host(s, {I, J, KL}, DType::F32, f.to_float(t));
  // sum_j t[i, j, kl] wb[j, r] -> [i, kl, r]
  Tensor tj = ops::permute(s, core, {0, 2, 1}).reshape({I * KL, J});
  Tensor tr = ops::matmul(s, tj, upload_matrix(s, f, wb)).reshape({I, KL * R});
  // sum_i wa[i, p] (...)[i, kl, r] -> [p, kl, r] -> [p, r, kl]
  Tensor wa_t = ops::permute(s, upload_matrix(s, f, wa), {1, 0});  // [p, i]
  Tensor pr = ops::matmul(s, wa_t, tr).reshape({P, KL, R});
  return ops::permute(s, pr, {0, 2, 1}).reshape({P, R * KL});
}

}  // namespace vkdream::model::lora_adapters
