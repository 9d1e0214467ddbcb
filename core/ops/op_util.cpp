#include "ops/op_util.h"

#include <algorithm>

namespace vkdream::ops {

vk::Variant variant_for(vk::Stream& s, DType dtype, bool tolerates_f16_arithmetic) {
  if (dtype == DType::F32) return vk::Variant::kF32;
  const auto& caps = s.ctx().caps();
  if (!caps.fp16_storage) throw OpError("f16 tensors need 16-bit storage, which " + caps.name + " lacks");
  if (tolerates_f16_arithmetic && s.f16_arithmetic() && caps.fp16_arithmetic) return vk::Variant::kF16Arith;
  return vk::Variant::kF16Storage;
}

const vk::Pipeline& pipeline(vk::Stream& s, const char* shader, vk::Variant variant, uint32_t bindings,
                             std::array<uint32_t, 3> workgroup, std::vector<uint32_t> spec) {
  vk::PipelineKey key;
  key.shader = shader;
  key.variant = variant;
  key.workgroup = workgroup;
  key.spec = std::move(spec);
  key.bindings = bindings;
  return s.ctx().pipelines().get(key);
}

Grid1D grid_1d(vk::Stream& s, uint64_t n, uint32_t wg) {
  Grid1D g;
  uint64_t groups = std::max<uint64_t>(1, (n + wg - 1) / wg);
  uint64_t max_x = std::min<uint64_t>(s.ctx().caps().max_workgroup_count[0], 65535);
  g.gx = uint32_t(std::min(groups, max_x));
  g.gy = uint32_t((groups + g.gx - 1) / g.gx);
  g.row_stride = g.gx * wg;
  return g;
}

void check_same_dtype(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (auto* t : ts) {
    if (!t || !t->defined()) continue;
    if (!first) first = t;
    else if (t->dtype() != first->dtype())
      throw OpError(std::string(op) + ": mixed dtypes " + first->str() + " and " + t->str());
  }
}

}  // namespace vkdream::ops
