// Shared plumbing for op implementations: variant choice, pipelines, dispatch grids, checks.
#pragma once
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/tensor.h"
#include "vulkan/context.h"
#include "vulkan/pipeline_cache.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// Thrown for shape/dtype mistakes in op calls; the message names the op and the operands.
class OpError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

#define VKD_OP_CHECK(cond, msg)                                  \
  do {                                                           \
    if (!(cond)) throw ::vkdream::ops::OpError(std::string(msg)); \
  } while (0)

// The shader variant for tensors of `dtype`: f32; or f16 storage, with f16 arithmetic only when
// the op tolerates it, the stream asks for it and the device has it.
vk::Variant variant_for(vk::Stream& s, DType dtype, bool tolerates_f16_arithmetic);

// texel_formats: per binding, VK_FORMAT_UNDEFINED for a storage buffer or the format of a storage texel buffer
// (see vk::PipelineKey::texel_formats); empty: all storage buffers.
const vk::Pipeline& pipeline(vk::Stream& s, const char* shader, vk::Variant variant, uint32_t bindings,
                             std::array<uint32_t, 3> workgroup = {64, 1, 1}, std::vector<uint32_t> spec = {},
                             std::vector<VkFormat> texel_formats = {});

// A 1-D launch of `n` invocations in groups of `wg`, folded into (x, y) to respect the device's
// per-dimension group limit. The shader's index is gid.y * row_stride + gid.x.
struct Grid1D {
  uint32_t gx = 1, gy = 1;
  uint32_t row_stride = 0;
};
Grid1D grid_1d(vk::Stream& s, uint64_t n, uint32_t wg);

inline uint32_t ceil_div(uint64_t a, uint64_t b) { return uint32_t((a + b - 1) / b); }

// A workgroup of 128 invocations as (wx, wy) for 2-D ops: wx the smallest power of two >= width in [8, 64].
inline std::array<uint32_t, 3> wg_2d(uint64_t width) {
  uint32_t wx = 8;
  while (wx < 64 && wx < width) wx *= 2;
  return {wx, 128 / wx, 1};
}

// A binding over elements [first, first + count) of `t`, starting at an offset the device
// accepts; `base` is the number of elements between the binding's start and element `first`
// (for views whose offset is not aligned, and for tensors processed in windows of one binding).
struct Window {
  vk::BufferRef ref;
  uint32_t base = 0;
};
Window window(vk::Stream& s, const Tensor& t, int64_t first, int64_t count);
// How many rows of `row` elements of `es` bytes one window may hold within the device's binding
// range (room left for the alignment slack, 32-bit indexing), capped at total_rows; OpError naming
// `op` when not even one row fits.
int64_t window_rows(vk::Stream& s, const std::string& op, int64_t row, uint64_t es, int64_t total_rows);
// Elements one window of one binding may hold (window_rows' rule: alignment slack, 32-bit indexing).
int64_t window_elems(vk::Stream& s, uint64_t es);
// Elements per window when a flat tensor of `t`'s dtype is processed in windows of one binding: a multiple of 4
// (vec4 paths stay aligned), at most t.numel() rounded up to 4.
int64_t flat_window_elems(vk::Stream& s, const std::string& op, const Tensor& t);

// The CPU device's lane shaders (shaders/*/*_lanes.comp, layout/transpose_texel.comp): whether the device runs them
// for `dtype` (a CPU device with 4-value storage texel buffers of the dtype; f32 stores through u64vec4,
// wide_store.glsl, so it needs shaderInt64), the texel format of their reads (rgba32f / rgba16f), and whether
// `ref`, holding values of `dtype`, may be bound as such a texel view (offset aligned, within
// maxTexelBufferElements).
bool cpu_lanes(vk::Stream& s, DType dtype);
VkFormat texel4_format(DType dtype);
bool texel4_view(vk::Stream& s, const vk::BufferRef& ref, DType dtype);

void check_same_dtype(const char* op, std::initializer_list<const Tensor*> ts);

}  // namespace vkdream::ops
