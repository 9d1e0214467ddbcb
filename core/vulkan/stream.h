// Records many dispatches into one command buffer and submits them once. Barriers are
// inserted only where a dispatch touches memory that an earlier one, since the last barrier,
// wrote (read-after-write, write-after-write) or read (write-after-read). Uploads and downloads
// go through staging memory in stream order, so tensors freed on the host can be reused by
// later ops in the same recording. Optional timestamp queries time each dispatch.
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <tuple>
#include <memory>
#include <string>
#include <vector>

#include "vulkan/memory.h"
#include "vulkan/pipeline_cache.h"

namespace vkdream::vk {

class Context;

// A range of a device buffer that a dispatch reads or writes.
struct BufferRef {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  VkDeviceSize size = 0;
};

struct OpTiming {
  std::string label;
  double ms = 0;
  uint32_t groups[3] = {0, 0, 0};  // the dispatch's workgroup counts
  uint32_t push[4] = {0, 0, 0, 0};  // its first push-constant words (sizes, for most shaders)
};

class Stream {
 public:
  explicit Stream(Context& ctx, bool profile = false);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  Context& ctx() { return ctx_; }

  // Whether ops that tolerate it may compute in float16 on f16 tensors (device permitting).
  // Off by default: f16 storage with f32 arithmetic.
  void set_f16_arithmetic(bool on) { f16_arithmetic_ = on; }
  bool f16_arithmetic() const { return f16_arithmetic_; }

  // Records one dispatch: `inputs` bind to 0..k-1 and `outputs` to k..n-1.
  void dispatch(const Pipeline& p, std::initializer_list<BufferRef> inputs,
                std::initializer_list<BufferRef> outputs, const void* push, uint32_t push_bytes,
                uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
  void dispatch(const Pipeline& p, const std::vector<BufferRef>& inputs,
                const std::vector<BufferRef>& outputs, const void* push, uint32_t push_bytes,
                uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
  template <class PC>
  void dispatch(const Pipeline& p, std::initializer_list<BufferRef> in, std::initializer_list<BufferRef> out,
                const PC& pc, uint32_t gx, uint32_t gy = 1, uint32_t gz = 1) {
    static_assert(sizeof(PC) <= kMaxPushConstantBytes, "push constants exceed 128 bytes");
    dispatch(p, in, out, &pc, sizeof(PC), gx, gy, gz);
  }

  // Lets a library that records its own commands (VkFFT) write into this stream's command buffer.
  // A barrier goes before them when `reads`/`writes` conflict with earlier work, and later work that
  // touches those ranges waits for them; barriers among its own commands are the library's job.
  // Later dispatches rebind pipeline, descriptors and push constants, so it may leave any bound.
  void record_external(const std::vector<BufferRef>& reads, const std::vector<BufferRef>& writes,
                       const std::function<void(VkCommandBuffer)>& record);

  // Copies host bytes into dst (through staging), in stream order.
  void upload(const BufferRef& dst, const void* src, size_t bytes);
  // Copies src to host memory when the stream is submitted; `dst` must stay valid until then.
  void download(const BufferRef& src, void* dst, size_t bytes);
  void copy(const BufferRef& src, const BufferRef& dst, size_t bytes);
  void fill_zero(const BufferRef& dst);

  // Submits everything recorded, waits for it, completes downloads, gathers timings and
  // starts a new recording. Throws VulkanError on device loss or timeout.
  void submit();
  // Number of dispatches recorded since the last submit.
  uint32_t pending() const { return dispatches_; }
  uint32_t barriers_recorded() const { return barriers_; }

  // Per-dispatch GPU times of the last submit (empty unless profiling and the device has timestamps).
  const std::vector<OpTiming>& timings() const { return timings_; }

 private:
  struct Range {
    VkBuffer buffer;
    VkDeviceSize begin, end;
  };
  struct PendingDownload {
    std::shared_ptr<Allocation> staging;
    void* dst;
    size_t bytes;
  };
  void begin();
  void hazard(const BufferRef* reads, size_t nr, const BufferRef* writes, size_t nw);
  void barrier();
  std::shared_ptr<Allocation> staging(size_t bytes);

  Context& ctx_;
  bool profile_;
  bool f16_arithmetic_ = false;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  VkQueryPool queries_ = VK_NULL_HANDLE;
  uint32_t query_capacity_ = 0;
  uint32_t queries_used_ = 0;
  bool recording_ = false;
  uint32_t dispatches_ = 0;
  uint32_t barriers_ = 0;
  std::vector<Range> written_, read_;
  std::vector<std::shared_ptr<Allocation>> keep_;  // staging alive until submit completes
  std::vector<PendingDownload> downloads_;
  std::vector<OpTiming> labels_;  // each timed dispatch, its time filled in at the wait
  std::vector<OpTiming> timings_;
  // Buffer views for texel-buffer bindings, by (buffer, offset, range, format); destroyed once the
  // submit that used them has completed.
  VkBufferView view(const BufferRef& r, VkFormat format);
  void destroy_views();
  std::map<std::tuple<VkBuffer, VkDeviceSize, VkDeviceSize, VkFormat>, VkBufferView> views_;
};

}  // namespace vkdream::vk
