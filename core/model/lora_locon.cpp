// LoRA and LoCon (comfy/weight_adapter/lora.py LoRAAdapter.calculate_weight): diff = up.flatten(1) @ down',
// where down' is down.flatten(1), or for LoCon with `lora_mid` (kohya only)
//   (down^T.flatten(1) @ mid^T.flatten(1)).reshape(in, rank, kh, kw).transpose(0, 1).
#include <string>

#include "model/lora_adapters.h"
#include "ops/layout.h"
#include "ops/matmul.h"

namespace vkdream::model::lora_adapters {
namespace {

// down [rank, in] folded with mid [rank, rank, kh, kw] into f32 [rank, in*kh*kw].
Tensor fold_mid(vk::Stream& s, const SafetensorsFile& f, const LoraModule& m) {
  const int64_t rank = m.down->shape[0], in = flat_cols(*m.down);
  const auto& ms = m.mid->shape;
  const int64_t kh = ms[2], kw = ms[3];
  Tensor down = upload_matrix(s, f, *m.down);  // [rank, in]
  Tensor mid = from_host(s, {ms[0], ms[1], kh * kw}, DType::F32, f.to_float(*m.mid));
  Tensor down_t = ops::permute(s, down, {1, 0});                                     // [in, rank]
  Tensor mid_t = ops::permute(s, mid, {1, 0, 2}).reshape({ms[1], ms[0] * kh * kw});  // [rank_in, rank*kh*kw]
  Tensor prod = ops::matmul(s, down_t, mid_t);                                       // [in, rank*kh*kw]
  return ops::permute(s, prod.reshape({in, rank, kh * kw}), {1, 0, 2}).reshape({rank, in * kh * kw});
}

}  // namespace

DiffShape locon_diff_shape(const LoraModule& m) {
  const TensorInfo &up = *m.up, &down = *m.down;
  if (up.shape.empty() || down.shape.empty()) return {{}, "up/down must have at least one dim"};
  int64_t rank = down.shape[0], cols = flat_cols(down);
  if (m.mid) {
    const auto& ms = m.mid->shape;
    if (ms.size() != 4 || ms[0] != rank || ms[1] != rank)
      return {{}, "lora_mid " + m.mid->name + " does not fit the down weight"};
    cols *= ms[2] * ms[3];
  }
  if (flat_cols(up) != rank) return {{}, "up " + up.name + " does not fit the down weight"};
  return {{up.shape[0], cols}, ""};
}

Tensor locon_diff(vk::Stream& s, const SafetensorsFile& f, const LoraModule& m) {
  Tensor up = upload_matrix(s, f, *m.up);                                  // [out, rank]
  Tensor down = m.mid ? fold_mid(s, f, m) : upload_matrix(s, f, *m.down);  // [rank, cols]
  return ops::matmul(s, up, down);
}

}  // namespace vkdream::model::lora_adapters
