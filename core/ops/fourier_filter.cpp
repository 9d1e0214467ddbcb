#include "ops/fourier_filter.h"

#include <vkFFT.h>  // the patched copy in the build tree (cmake/VkFFT.cmake)

#include <algorithm>
#include <string>

#include "ops/op_util.h"
#include "vulkan/error.h"
#include "vulkan/memory.h"

namespace vkdream::ops {

// One VkFFT application over its own work buffer: `planes` consecutive planes of H x W complex f32.
// VkFFT keeps pointers into its configuration, so every handle it is given lives here or in FFTPlans.
struct FFTPlans::Plan {
  int64_t planes = 0, h = 0, w = 0;
  std::unique_ptr<vk::MemoryPool> pool;  // one block, so the work buffer starts at offset 0 of its VkBuffer
  std::shared_ptr<vk::Allocation> work;
  VkBuffer buffer = VK_NULL_HANDLE;
  VkBuffer buffer_alias = VK_NULL_HANDLE;  // the same buffer, for refresh_descriptors()
  uint64_t buffer_bytes = 0;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  VkCommandPool command_pool = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  bool identity = false;  // 1 x 1 planes: the DFT is the identity, VkFFT is not needed
  VkFFTApplication app = {};
  bool initialized = false;

  vk::BufferRef ref() const { return {buffer, 0, buffer_bytes}; }
  ~Plan() {
    if (initialized) deleteVkFFT(&app);
  }
};

FFTPlans::FFTPlans(vk::Context& ctx) : ctx_(ctx) {
  VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pi.queueFamilyIndex = ctx.queue_family();
  VKD_CHECK(vkCreateCommandPool(ctx.device(), &pi, nullptr, &pool_));
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VKD_CHECK(vkCreateFence(ctx.device(), &fi, nullptr, &fence_));
}

FFTPlans::~FFTPlans() {
  plans_.clear();
  vkDestroyFence(ctx_.device(), fence_, nullptr);
  vkDestroyCommandPool(ctx_.device(), pool_, nullptr);
}

size_t FFTPlans::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return plans_.size();
}

int64_t FFTPlans::chunk_planes(int64_t total_planes, int64_t h, int64_t w) const {
  const uint64_t plane_bytes = uint64_t(h * w) * 8;
  const uint64_t cap = std::min<uint64_t>(kMaxWorkBytes, ctx_.caps().max_storage_buffer_range);
  VKD_OP_CHECK(plane_bytes <= cap, "fourier_filter: one " + std::to_string(h) + "x" + std::to_string(w) +
                                       " complex plane exceeds the work buffer limit");
  return std::max<int64_t>(1, std::min<int64_t>(total_planes, int64_t(cap / plane_bytes)));
}

FFTPlans::Plan& FFTPlans::get(int64_t planes, int64_t h, int64_t w) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_tuple(planes, h, w);
  if (auto it = plans_.find(key); it != plans_.end()) return *it->second;

  auto p = std::make_unique<Plan>();
  p->planes = planes;
  p->h = h;
  p->w = w;
  p->buffer_bytes = uint64_t(planes * h * w) * 8;
  p->pool = std::make_unique<vk::MemoryPool>(ctx_, vk::MemoryPool::Kind::kDeviceLocal, "fft work",
                                             (p->buffer_bytes + 255) / 256 * 256);
  p->work = p->pool->allocate(p->buffer_bytes);
  p->buffer = p->work->buffer;
  if (p->work->offset != 0) throw vk::VulkanError("fft work buffer not at offset 0", VK_ERROR_UNKNOWN);
  p->physical = ctx_.physical_device();
  p->device = ctx_.device();
  p->queue = ctx_.queue();
  p->command_pool = pool_;
  p->fence = fence_;
  p->identity = h == 1 && w == 1;
  if (!p->identity) {
    // VkFFT's axis 0 is the contiguous one; an axis of length 1 is dropped (its DFT is the identity).
    VkFFTConfiguration c = {};
    if (h == 1 || w == 1) {
      c.FFTdim = 1;
      c.size[0] = uint64_t(std::max(h, w));
    } else {
      c.FFTdim = 2;
      c.size[0] = uint64_t(w);
      c.size[1] = uint64_t(h);
    }
    c.numberBatches = uint64_t(planes);
    c.physicalDevice = &p->physical;
    c.device = &p->device;
    c.queue = &p->queue;
    c.commandPool = &p->command_pool;
    c.fence = &p->fence;
    c.buffer = &p->buffer;
    c.bufferSize = &p->buffer_bytes;
    VkFFTResult r = initializeVkFFT(&p->app, c);
    if (r != VKFFT_SUCCESS)
      throw vk::VulkanError("VkFFT plan for " + std::to_string(planes) + " planes of " + std::to_string(h) + "x" +
                                std::to_string(w) + " failed (VkFFTResult " + std::to_string(int(r)) + ")",
                            VK_ERROR_UNKNOWN);
    p->initialized = true;
    refresh_descriptors(*p);
  }
  return *(plans_[key] = std::move(p));
}

// VkFFT 1.2.26 writes its descriptor sets before it allocates the Bluestein buffers (axes with a prime
// factor over 13), leaving those bindings null. A launch that names a different buffer pointer makes it
// rewrite every set; we do that once, recording into a command buffer that is never submitted.
void FFTPlans::refresh_descriptors(Plan& p) {
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VkCommandBuffer cmd;
  VKD_CHECK(vkAllocateCommandBuffers(ctx_.device(), &ai, &cmd));
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VkResult vr = vkBeginCommandBuffer(cmd, &bi);
  VkFFTResult r = VKFFT_SUCCESS;
  if (vr == VK_SUCCESS) {
    p.buffer_alias = p.buffer;
    VkFFTLaunchParams lp = {};
    lp.commandBuffer = &cmd;
    lp.buffer = &p.buffer_alias;  // a new pointer: VkFFT rewrites the descriptor sets of both directions
    r = VkFFTAppend(&p.app, -1, &lp);
    vkEndCommandBuffer(cmd);
  }
  vkFreeCommandBuffers(ctx_.device(), pool_, 1, &cmd);
  VKD_CHECK(vr);
  if (r != VKFFT_SUCCESS)
    throw vk::VulkanError("VkFFT descriptor refresh failed (VkFFTResult " + std::to_string(int(r)) + ")",
                          VK_ERROR_UNKNOWN);
}

ShiftedRange fourier_mask_range(int64_t n, int threshold) {
  // Python's slice [a:b] on a length-n axis: negative bounds count from the end, then clamp to [0, n].
  auto norm = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
  const int64_t c = n / 2;
  ShiftedRange r{norm(c - threshold), norm(c + threshold)};
  if (r.hi < r.lo) r.hi = r.lo;
  return r;
}

namespace {
void record_fft(vk::Stream& s, FFTPlans::Plan& p, int direction) {
  if (p.identity) return;
  s.record_external({p.ref()}, {p.ref()}, [&](VkCommandBuffer cmd) {
    VkFFTLaunchParams lp = {};
    lp.commandBuffer = &cmd;
    VkFFTResult r = VkFFTAppend(&p.app, direction, &lp);
    if (r != VKFFT_SUCCESS)
      throw vk::VulkanError("VkFFTAppend failed (VkFFTResult " + std::to_string(int(r)) + ")", VK_ERROR_UNKNOWN);
  });
}
}  // namespace

Tensor fourier_filter(vk::Stream& s, FFTPlans& plans, const Tensor& x, int threshold, double scale) {
  VKD_OP_CHECK(x.rank() == 4, "fourier_filter: x must be [B, C, H, W], got " + x.str());
  VKD_OP_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F16, "fourier_filter: f32 or f16, got " + x.str());
  VKD_OP_CHECK(&plans.ctx() == &s.ctx(), "fourier_filter: the plan cache belongs to another device");
  Tensor out = Tensor::empty(s.ctx(), x.shape(), x.dtype());
  const int64_t h = x.dim(2), w = x.dim(3), hw = h * w, total = x.dim(0) * x.dim(1);
  if (x.numel() == 0) return out;
  const ShiftedRange rows = fourier_mask_range(h, threshold), cols = fourier_mask_range(w, threshold);
  const vk::Variant variant = variant_for(s, x.dtype(), false);
  const uint32_t wg = 256;
  auto& pack = pipeline(s, "fft/pack_complex", variant, 2, {wg, 1, 1});
  auto& bins = pipeline(s, "fft/scale_bins", variant, 1, {64, 1, 1});
  auto& unpack = pipeline(s, "fft/unpack_real", variant, 2, {wg, 1, 1});
  const int64_t chunk = plans.chunk_planes(total, h, w);

  for (int64_t p0 = 0; p0 < total; p0 += chunk) {
    const int64_t n = std::min(chunk, total - p0);
    FFTPlans::Plan& plan = plans.get(chunk, h, w);  // a short last chunk runs the full plan on stale planes
    const vk::BufferRef work{plan.buffer, 0, uint64_t(n * hw) * 8};
    const uint64_t count = uint64_t(n * hw);
    Grid1D g = grid_1d(s, count, wg);

    Window xin = window(s, x, p0 * hw, n * hw);
    struct {
      uint32_t base, total, row_stride;
    } pk{xin.base, uint32_t(count), g.row_stride};
    s.dispatch(pack, {xin.ref}, {work}, pk, g.gx, g.gy);

    record_fft(s, plan, -1);  // forward: exp(-2 pi i k n / N), as torch.fft.fftn
    if (rows.hi > rows.lo && cols.hi > cols.lo) {
      struct {
        uint32_t planes, H, W, row_lo, rows, col_lo, cols;
        float scale;
      } bp{uint32_t(n), uint32_t(h), uint32_t(w), uint32_t(rows.lo), uint32_t(rows.hi - rows.lo),
           uint32_t(cols.lo), uint32_t(cols.hi - cols.lo), float(scale)};
      s.dispatch(bins, {}, {work}, bp, ceil_div(uint64_t(n) * bp.rows * bp.cols, 64));
    }
    record_fft(s, plan, 1);  // inverse, unnormalised

    Window yout = window(s, out, p0 * hw, n * hw);
    struct {
      uint32_t base, total, row_stride;
      float norm;
    } up{yout.base, uint32_t(count), g.row_stride, float(1.0 / double(hw))};
    s.dispatch(unpack, {work}, {yout.ref}, up, g.gx, g.gy);
  }
  return out;
}

}  // namespace vkdream::ops
