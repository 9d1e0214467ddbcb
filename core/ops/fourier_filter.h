// ComfyUI's Fourier_filter (comfy_extras/nodes_freelunch.py, used by FreeU / FreeU_V2) on the GPU,
// with VkFFT for the transforms. Per (batch, channel) plane of x [B, C, H, W]:
//   X = fftshift(fft2(float(x)));  X[crow-t : crow+t, ccol-t : ccol+t] *= scale;
//   out = real(ifft2(ifftshift(X)))  in x's dtype,
// with crow = H/2, ccol = W/2 and Python slice rules (a negative start counts from the end). The
// shifts cancel, so only the masked bins move: at threshold 1 the frequencies {-1, 0} of each axis.
//
//   ops::FFTPlans plans(ctx);                                   // per device; caches VkFFT plans
//   Tensor y = ops::fourier_filter(s, plans, x, /*threshold=*/1, /*scale=*/0.9);
//
// Pipeline (all in the stream, no host sync): pack x into complex f32, VkFFT forward (recorded into
// the stream's command buffer), scale the masked bins, VkFFT inverse, real part / (H*W) into x's dtype.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "tensor/tensor.h"
#include "vulkan/context.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// VkFFT plans by (planes, H, W), each with its own complex f32 work buffer (VkFFT binds buffers into its
// descriptor sets when a plan is made, so a plan works on one buffer for life). Planes are processed in
// chunks so that a work buffer stays within the device's binding range and kMaxWorkBytes.
// One stream at a time may use a cache (the work buffers are shared by its calls); destroy it only
// after the streams that recorded with it have submitted.
class FFTPlans {
 public:
  static constexpr uint64_t kMaxWorkBytes = 64ull << 20;

  explicit FFTPlans(vk::Context& ctx);
  ~FFTPlans();
  FFTPlans(const FFTPlans&) = delete;
  FFTPlans& operator=(const FFTPlans&) = delete;

  struct Plan;
  // The plan for `planes` planes of H x W complex values (creating it compiles VkFFT's kernels).
  Plan& get(int64_t planes, int64_t h, int64_t w);
  // Planes per chunk for H x W planes (what fourier_filter passes to get()).
  int64_t chunk_planes(int64_t total_planes, int64_t h, int64_t w) const;
  size_t size() const;
  vk::Context& ctx() { return ctx_; }

 private:
  void refresh_descriptors(Plan& p);
  vk::Context& ctx_;
  VkCommandPool pool_ = VK_NULL_HANDLE;  // for VkFFT's own uploads while a plan is made
  VkFence fence_ = VK_NULL_HANDLE;
  mutable std::mutex mu_;
  std::map<std::tuple<int64_t, int64_t, int64_t>, std::unique_ptr<Plan>> plans_;
};

// The masked index range [lo, hi) of one axis of length n in fftshift order, as Python's
// mask[crow - t : crow + t] selects it (crow = n / 2); empty when lo >= hi.
struct ShiftedRange {
  int64_t lo = 0, hi = 0;
};
ShiftedRange fourier_mask_range(int64_t n, int threshold);

// x [B, C, H, W] f32 or f16; returns a new tensor of x's shape and dtype.
Tensor fourier_filter(vk::Stream& s, FFTPlans& plans, const Tensor& x, int threshold, double scale);

}  // namespace vkdream::ops
