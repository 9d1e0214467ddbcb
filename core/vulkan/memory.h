// Device memory in pools: large VkDeviceMemory blocks, each with one VkBuffer over the whole
// block, sub-allocated with a first-fit free list that coalesces on release. The activation pool
// is the arena: blocks are kept after tensors die, so ops and requests reuse the same memory.
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vkdream::vk {

class Context;
class MemoryPool;

// One sub-allocation. Freed back to its pool when the last reference goes.
struct Allocation {
  MemoryPool* pool = nullptr;
  uint32_t block = 0;
  VkBuffer buffer = VK_NULL_HANDLE;  // the block's buffer; bind at `offset`
  VkDeviceSize offset = 0;
  VkDeviceSize size = 0;
  uint8_t* mapped = nullptr;  // host pointer to offset 0 of this allocation, or null
  // Data computed from this allocation's contents and freed with it, by key (conv2d's Winograd-transformed
  // weights). Only for allocations written once and then only read: those of the context's weights pool.
  std::mutex derived_mu;
  std::map<std::string, std::shared_ptr<void>> derived;
  ~Allocation();
};

struct PoolStats {
  uint64_t reserved_bytes = 0;  // held from the driver
  uint64_t used_bytes = 0;      // handed out now
  uint64_t peak_used_bytes = 0;
  uint32_t blocks = 0;
};

class MemoryPool {
 public:
  enum class Kind { kDeviceLocal, kHostVisible };
  MemoryPool(Context& ctx, Kind kind, std::string name, VkDeviceSize block_size = 256ull << 20);
  ~MemoryPool();
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  // Throws VulkanError (out_of_memory() true) when the device cannot hold it.
  std::shared_ptr<Allocation> allocate(VkDeviceSize bytes);
  PoolStats stats() const;
  // Gives blocks that hold no allocation back to the driver.
  void trim();
  Kind kind() const { return kind_; }
  const std::string& name() const { return name_; }

 private:
  friend struct Allocation;
  struct Block {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceSize size = 0;
    uint8_t* mapped = nullptr;
    std::map<VkDeviceSize, VkDeviceSize> free;  // offset -> size
    VkDeviceSize used = 0;
  };
  void release(uint32_t block, VkDeviceSize offset, VkDeviceSize size);
  uint32_t add_block(VkDeviceSize size);
  void destroy_block(Block& b);
  uint32_t pick_memory_type(uint32_t type_bits) const;

  Context& ctx_;
  Kind kind_;
  std::string name_;
  VkDeviceSize block_size_;
  VkDeviceSize alignment_;
  mutable std::mutex mu_;
  std::vector<Block> blocks_;
  PoolStats stats_;
};

}  // namespace vkdream::vk
