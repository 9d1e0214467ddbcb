#include "vulkan/stream.h"

#include <algorithm>
#include <cstring>

#include "vulkan/context.h"
#include "vulkan/error.h"

namespace vkdream::vk {
namespace {
constexpr uint64_t kFenceTimeoutNs = 600ull * 1000 * 1000 * 1000;  // a hung device is an error, not a hang
}

Stream::Stream(Context& ctx, bool profile) : ctx_(ctx), profile_(profile && ctx.caps().timestamps) {
  VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pi.queueFamilyIndex = ctx.queue_family();
  VKD_CHECK(vkCreateCommandPool(ctx.device(), &pi, nullptr, &pool_));
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VKD_CHECK(vkAllocateCommandBuffers(ctx.device(), &ai, &cmd_));
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VKD_CHECK(vkCreateFence(ctx.device(), &fi, nullptr, &fence_));
  if (profile_) {
    query_capacity_ = 4096;
    VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qi.queryCount = query_capacity_;
    VKD_CHECK(vkCreateQueryPool(ctx.device(), &qi, nullptr, &queries_));
  }
}

Stream::~Stream() {
  VkDevice d = ctx_.device();
  if (recording_) vkEndCommandBuffer(cmd_);
  destroy_views();
  if (queries_) vkDestroyQueryPool(d, queries_, nullptr);
  vkDestroyFence(d, fence_, nullptr);
  vkDestroyCommandPool(d, pool_, nullptr);
}

VkBufferView Stream::view(const BufferRef& r, VkFormat format) {
  auto key = std::make_tuple(r.buffer, r.offset, r.size, format);
  if (auto it = views_.find(key); it != views_.end()) return it->second;
  VkBufferViewCreateInfo vi{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
  vi.buffer = r.buffer;
  vi.format = format;
  vi.offset = r.offset;
  vi.range = r.size;
  VkBufferView v;
  VKD_CHECK(vkCreateBufferView(ctx_.device(), &vi, nullptr, &v));
  views_[key] = v;
  return v;
}

void Stream::destroy_views() {
  for (auto& [k, v] : views_) vkDestroyBufferView(ctx_.device(), v, nullptr);
  views_.clear();
}

void Stream::begin() {
  if (recording_) return;
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VKD_CHECK(vkBeginCommandBuffer(cmd_, &bi));
  if (queries_) vkCmdResetQueryPool(cmd_, queries_, 0, query_capacity_);
  queries_used_ = 0;
  labels_.clear();
  recording_ = true;
}

void Stream::barrier() {
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT |
                     VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                     VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  vkCmdPipelineBarrier(cmd_, stages, stages, 0, 1, &mb, 0, nullptr, 0, nullptr);
  written_.clear();
  read_.clear();
  barriers_++;
}

void Stream::hazard(const BufferRef* reads, size_t nr, const BufferRef* writes, size_t nw) {
  auto overlaps = [](const std::vector<Range>& set, const BufferRef& r) {
    for (auto& s : set)
      if (s.buffer == r.buffer && r.offset < s.end && s.begin < r.offset + r.size) return true;
    return false;
  };
  bool need = false;
  for (size_t i = 0; i < nr && !need; ++i) need = overlaps(written_, reads[i]);
  for (size_t i = 0; i < nw && !need; ++i) need = overlaps(written_, writes[i]) || overlaps(read_, writes[i]);
  if (need) barrier();
  for (size_t i = 0; i < nr; ++i) read_.push_back({reads[i].buffer, reads[i].offset, reads[i].offset + reads[i].size});
  for (size_t i = 0; i < nw; ++i)
    written_.push_back({writes[i].buffer, writes[i].offset, writes[i].offset + writes[i].size});
}

void Stream::dispatch(const Pipeline& p, std::initializer_list<BufferRef> inputs,
                      std::initializer_list<BufferRef> outputs, const void* push, uint32_t push_bytes,
                      uint32_t gx, uint32_t gy, uint32_t gz) {
  dispatch(p, std::vector<BufferRef>(inputs), std::vector<BufferRef>(outputs), push, push_bytes, gx, gy, gz);
}

void Stream::dispatch(const Pipeline& p, const std::vector<BufferRef>& inputs,
                      const std::vector<BufferRef>& outputs, const void* push, uint32_t push_bytes,
                      uint32_t gx, uint32_t gy, uint32_t gz) {
  const auto& caps = ctx_.caps();
  if (gx == 0 || gy == 0 || gz == 0) return;  // nothing to do for empty tensors
  if (gx > caps.max_workgroup_count[0] || gy > caps.max_workgroup_count[1] || gz > caps.max_workgroup_count[2])
    throw VulkanError("dispatch of " + p.label + " (" + std::to_string(gx) + "x" + std::to_string(gy) + "x" +
                          std::to_string(gz) + " groups) exceeds the device's workgroup count limit",
                      VK_ERROR_UNKNOWN);
  if (push_bytes > kMaxPushConstantBytes)
    throw VulkanError("push constants of " + p.label + " exceed 128 bytes", VK_ERROR_UNKNOWN);
  std::vector<VkDescriptorBufferInfo> infos;
  infos.reserve(inputs.size() + outputs.size());
  for (auto* list : {&inputs, &outputs})
    for (auto& r : *list) {
      if (r.size > caps.max_storage_buffer_range)
        throw VulkanError("a binding of " + p.label + " spans " + std::to_string(r.size >> 20) +
                              " MiB, over the device's " + std::to_string(caps.max_storage_buffer_range >> 20) +
                              " MiB binding limit",
                          VK_ERROR_UNKNOWN);
      infos.push_back({r.buffer, r.offset, r.size});
    }
  begin();
  hazard(inputs.data(), inputs.size(), outputs.data(), outputs.size());
  std::vector<VkWriteDescriptorSet> writes(infos.size());
  std::vector<VkBufferView> views(infos.size(), VK_NULL_HANDLE);
  for (uint32_t i = 0; i < infos.size(); ++i) {
    writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    VkFormat f = p.texel_format(i);
    if (f != VK_FORMAT_UNDEFINED) {
      const BufferRef& r = i < inputs.size() ? inputs[i] : outputs[i - inputs.size()];
      if (r.offset % caps.min_texel_buffer_offset_alignment != 0)
        throw VulkanError("texel binding " + std::to_string(i) + " of " + p.label + " is not aligned to " +
                              std::to_string(caps.min_texel_buffer_offset_alignment) + " bytes",
                          VK_ERROR_UNKNOWN);
      views[i] = view(r, f);
      writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER;
      writes[i].pTexelBufferView = &views[i];
    } else {
      writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      writes[i].pBufferInfo = &infos[i];
    }
  }
  vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
  ctx_.cmd_push_descriptor_set(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, uint32_t(writes.size()),
                               writes.data());
  if (push_bytes) vkCmdPushConstants(cmd_, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  bool timed = queries_ && queries_used_ + 2 <= query_capacity_;
  if (timed) vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries_, queries_used_++);
  vkCmdDispatch(cmd_, gx, gy, gz);
  if (timed) {
    vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, queries_used_++);
    OpTiming t{p.label, 0, {gx, gy, gz}, {}};
    if (push_bytes) std::memcpy(t.push, push, std::min<size_t>(push_bytes, sizeof t.push));
    labels_.push_back(std::move(t));
  }
  dispatches_++;
}

void Stream::record_external(const std::vector<BufferRef>& reads, const std::vector<BufferRef>& writes,
                             const std::function<void(VkCommandBuffer)>& record) {
  begin();
  hazard(reads.data(), reads.size(), writes.data(), writes.size());
  record(cmd_);
  dispatches_++;
}

std::shared_ptr<Allocation> Stream::staging(size_t bytes) {
  auto a = ctx_.staging().allocate(bytes);
  keep_.push_back(a);
  return a;
}

void Stream::upload(const BufferRef& dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  if (bytes > dst.size) throw VulkanError("upload larger than its destination", VK_ERROR_UNKNOWN);
  auto s = staging(bytes);
  std::memcpy(s->mapped, src, bytes);
  copy({s->buffer, s->offset, bytes}, dst, bytes);
}

void Stream::download(const BufferRef& src, void* dst, size_t bytes) {
  if (bytes == 0) return;
  if (bytes > src.size) throw VulkanError("download larger than its source", VK_ERROR_UNKNOWN);
  auto s = staging(bytes);
  copy(src, {s->buffer, s->offset, bytes}, bytes);
  downloads_.push_back({s, dst, bytes});
}

void Stream::copy(const BufferRef& src, const BufferRef& dst, size_t bytes) {
  if (bytes == 0) return;
  begin();
  BufferRef r{src.buffer, src.offset, bytes}, w{dst.buffer, dst.offset, bytes};
  hazard(&r, 1, &w, 1);
  VkBufferCopy region{src.offset, dst.offset, bytes};
  vkCmdCopyBuffer(cmd_, src.buffer, dst.buffer, 1, &region);
}

void Stream::fill_zero(const BufferRef& dst) {
  if (dst.size == 0) return;
  begin();
  hazard(nullptr, 0, &dst, 1);
  vkCmdFillBuffer(cmd_, dst.buffer, dst.offset, (dst.size + 3) / 4 * 4, 0);
}

void Stream::submit() {
  if (!recording_) return;
  recording_ = false;
  VKD_CHECK(vkEndCommandBuffer(cmd_));
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  VKD_CHECK(vkResetFences(ctx_.device(), 1, &fence_));
  VKD_CHECK(vkQueueSubmit(ctx_.queue(), 1, &si, fence_));
  VKD_CHECK(vkWaitForFences(ctx_.device(), 1, &fence_, VK_TRUE, kFenceTimeoutNs));
  for (auto& d : downloads_) std::memcpy(d.dst, d.staging->mapped, d.bytes);
  destroy_views();
  downloads_.clear();
  keep_.clear();
  written_.clear();
  read_.clear();
  timings_.clear();
  if (queries_ && queries_used_) {
    std::vector<uint64_t> ts(queries_used_);
    VKD_CHECK(vkGetQueryPoolResults(ctx_.device(), queries_, 0, queries_used_, ts.size() * 8, ts.data(), 8,
                                    VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
    for (uint32_t i = 0; i + 1 < queries_used_; i += 2) {
      timings_.push_back(labels_[i / 2]);
      timings_.back().ms = double(ts[i + 1] - ts[i]) * ctx_.caps().timestamp_period_ns * 1e-6;
    }
  }
  VKD_CHECK(vkResetCommandBuffer(cmd_, 0));
  dispatches_ = 0;
}

}  // namespace vkdream::vk
