#include "vulkan/memory.h"

#include <algorithm>
#include <sstream>

#include "vulkan/context.h"
#include "vulkan/error.h"

namespace vkdream::vk {

Allocation::~Allocation() {
  if (pool) pool->release(block, offset, size);
}

MemoryPool::MemoryPool(Context& ctx, Kind kind, std::string name, VkDeviceSize block_size)
    : ctx_(ctx), kind_(kind), name_(std::move(name)), block_size_(block_size) {
  alignment_ = std::max<VkDeviceSize>(256, ctx.caps().min_storage_offset_alignment);
}

MemoryPool::~MemoryPool() {
  for (auto& b : blocks_) destroy_block(b);
}

void MemoryPool::destroy_block(Block& b) {
  if (b.buffer) vkDestroyBuffer(ctx_.device(), b.buffer, nullptr);
  if (b.memory) vkFreeMemory(ctx_.device(), b.memory, nullptr);
  b = Block{};
}

uint32_t MemoryPool::pick_memory_type(uint32_t type_bits) const {
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(ctx_.physical_device(), &mp);
  // Ranked wishes: device-local pools want DEVICE_LOCAL; host pools want HOST_VISIBLE|COHERENT,
  // preferably CACHED so downloads read fast.
  std::vector<VkMemoryPropertyFlags> wishes;
  if (kind_ == Kind::kDeviceLocal) {
    wishes = {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0};
  } else {
    wishes = {VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                  VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
              VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT};
  }
  for (auto want : wishes)
    for (uint32_t i = 0; i < mp.memoryTypeCount; ++i)
      if ((type_bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) return i;
  throw VulkanError("no suitable memory type for pool '" + name_ + "'", VK_ERROR_FEATURE_NOT_PRESENT);
}

uint32_t MemoryPool::add_block(VkDeviceSize size) {
  Block b;
  b.size = size;
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = size;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
             VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
             VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  auto fail = [&](VkResult r) {
    std::ostringstream os;
    os << "pool '" << name_ << "' could not allocate " << (size >> 20) << " MiB of device memory ("
       << result_name(r) << "); in use " << (stats_.used_bytes >> 20) << " MiB";
    throw VulkanError(os.str(), r);
  };
  if (VkResult r = vkCreateBuffer(ctx_.device(), &bi, nullptr, &b.buffer); r != VK_SUCCESS) {
    b.buffer = VK_NULL_HANDLE;
    fail(r);
  }
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(ctx_.device(), b.buffer, &req);
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = req.size;
  try {
    ai.memoryTypeIndex = pick_memory_type(req.memoryTypeBits);
    if (VkResult r = vkAllocateMemory(ctx_.device(), &ai, nullptr, &b.memory); r != VK_SUCCESS) {
      b.memory = VK_NULL_HANDLE;
      fail(r);
    }
    VKD_CHECK(vkBindBufferMemory(ctx_.device(), b.buffer, b.memory, 0));
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(ctx_.physical_device(), &mp);
    if (mp.memoryTypes[ai.memoryTypeIndex].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
      void* p = nullptr;
      VKD_CHECK(vkMapMemory(ctx_.device(), b.memory, 0, VK_WHOLE_SIZE, 0, &p));
      b.mapped = static_cast<uint8_t*>(p);
    }
  } catch (...) {
    destroy_block(b);
    throw;
  }
  b.free[0] = size;
  // Reuse an empty slot left by trim().
  for (uint32_t i = 0; i < blocks_.size(); ++i) {
    if (!blocks_[i].buffer) {
      blocks_[i] = std::move(b);
      stats_.reserved_bytes += size;
      stats_.blocks++;
      return i;
    }
  }
  blocks_.push_back(std::move(b));
  stats_.reserved_bytes += size;
  stats_.blocks++;
  return uint32_t(blocks_.size() - 1);
}

std::shared_ptr<Allocation> MemoryPool::allocate(VkDeviceSize bytes) {
  VkDeviceSize size = std::max<VkDeviceSize>(alignment_, (bytes + alignment_ - 1) / alignment_ * alignment_);
  std::lock_guard<std::mutex> lock(mu_);
  auto take = [&](uint32_t bi) -> std::shared_ptr<Allocation> {
    Block& b = blocks_[bi];
    for (auto it = b.free.begin(); it != b.free.end(); ++it) {
      if (it->second < size) continue;
      VkDeviceSize off = it->first, rest = it->second - size;
      b.free.erase(it);
      if (rest) b.free[off + size] = rest;
      b.used += size;
      stats_.used_bytes += size;
      stats_.peak_used_bytes = std::max(stats_.peak_used_bytes, stats_.used_bytes);
      auto a = std::make_shared<Allocation>();
      a->pool = this;
      a->block = bi;
      a->buffer = b.buffer;
      a->offset = off;
      a->size = size;
      a->mapped = b.mapped ? b.mapped + off : nullptr;
      return a;
    }
    return nullptr;
  };
  for (uint32_t i = 0; i < blocks_.size(); ++i)
    if (blocks_[i].buffer)
      if (auto a = take(i)) return a;
  uint32_t bi = add_block(std::max(block_size_, size));
  return take(bi);
}

void MemoryPool::release(uint32_t bi, VkDeviceSize offset, VkDeviceSize size) {
  std::lock_guard<std::mutex> lock(mu_);
  Block& b = blocks_[bi];
  b.used -= size;
  stats_.used_bytes -= size;
  auto it = b.free.emplace(offset, size).first;
  auto next = std::next(it);
  if (next != b.free.end() && it->first + it->second == next->first) {
    it->second += next->second;
    b.free.erase(next);
  }
  if (it != b.free.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second == it->first) {
      prev->second += it->second;
      b.free.erase(it);
    }
  }
}

PoolStats MemoryPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void MemoryPool::trim() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& b : blocks_) {
    if (b.buffer && b.used == 0) {
      stats_.reserved_bytes -= b.size;
      stats_.blocks--;
      destroy_block(b);
    }
  }
}

}  // namespace vkdream::vk
