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
                             std::array<uint32_t, 3> workgroup, std::vector<uint32_t> spec,
                             std::vector<VkFormat> texel_formats) {
  vk::PipelineKey key;
  key.shader = shader;
  key.variant = variant;
  key.workgroup = workgroup;
  key.spec = std::move(spec);
  key.bindings = bindings;
  key.texel_formats = std::move(texel_formats);
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

Window window(vk::Stream& s, const Tensor& t, int64_t first, int64_t count) {
  vk::BufferRef r = t.ref();
  uint64_t es = dtype_size(t.dtype());
  uint64_t align = std::max<uint64_t>(s.ctx().caps().min_storage_offset_alignment, 4);
  uint64_t start = r.offset + uint64_t(first) * es;
  uint64_t aligned = start / align * align;
  uint64_t end = start + uint64_t(count) * es;
  Window w;
  w.ref = {r.buffer, aligned, std::max<uint64_t>((end - aligned + 3) / 4 * 4, 4)};
  w.base = uint32_t((start - aligned) / es);
  return w;
}

int64_t window_rows(vk::Stream& s, const std::string& op, int64_t row, uint64_t es, int64_t total_rows) {
  const auto& caps = s.ctx().caps();
  uint64_t slack = std::max<uint64_t>(caps.min_storage_offset_alignment, 4) + 4;
  uint64_t max_elems = caps.max_storage_buffer_range > slack ? (caps.max_storage_buffer_range - slack) / es : 0;
  max_elems = std::min<uint64_t>(max_elems, uint64_t(1) << 31);  // 32-bit indexing in the shaders
  if (row <= 0) return total_rows;
  int64_t rows = int64_t(max_elems / uint64_t(row));
  VKD_OP_CHECK(rows > 0, op + ": one row of " + std::to_string(row) +
                             " elements exceeds the device's storage binding range");
  return std::min(rows, total_rows);
}

int64_t window_elems(vk::Stream& s, uint64_t es) { return window_rows(s, "window", 1, es, int64_t(1) << 62); }

int64_t flat_window_elems(vk::Stream& s, const std::string& op, const Tensor& t) {
  return window_rows(s, op, 4, dtype_size(t.dtype()), (t.numel() + 3) / 4) * 4;
}

bool cpu_lanes(vk::Stream& s, DType dtype) {
  const auto& caps = s.ctx().caps();
  if (caps.type != VK_PHYSICAL_DEVICE_TYPE_CPU) return false;
  if (dtype == DType::F32) return caps.storage_texel_rgba32f && caps.int64;
  return dtype == DType::F16 && caps.storage_texel_rgba16f && caps.fp16_storage;
}

VkFormat texel4_format(DType dtype) {
  return dtype == DType::F32 ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R16G16B16A16_SFLOAT;
}

bool texel4_view(vk::Stream& s, const vk::BufferRef& ref, DType dtype) {
  const auto& caps = s.ctx().caps();
  const uint64_t talign = std::max<uint64_t>(caps.min_texel_buffer_offset_alignment, 1);
  return ref.offset % talign == 0 && ref.size / dtype_size(dtype) / 4 <= caps.max_texel_buffer_elements;
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
