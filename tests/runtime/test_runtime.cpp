// The GPU runtime: device choice, capabilities, memory pools, the pipeline cache, stream barriers,
// timestamps, and errors that name what failed instead of aborting.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ops/elementwise.h"
#include "support/gpu_env.h"
#include "vulkan/context.h"
#include "vulkan/error.h"
#include "vulkan/memory.h"
#include "vulkan/pipeline_cache.h"
#include "vulkan/stream.h"

namespace vkdream::test {
namespace {

TEST(Context, ReadsDeviceCapabilities) {
  const auto& caps = context().caps();
  EXPECT_FALSE(caps.name.empty());
  EXPECT_GE(caps.max_storage_buffer_range, 128u << 20) << caps.name;
  EXPECT_GE(caps.max_shared_memory, 16384u);
  EXPECT_GE(caps.max_workgroup_invocations, 128u);
  EXPECT_GE(caps.subgroup_size, 1u);
  EXPECT_GT(caps.max_workgroup_count[0], 0u);
}

TEST(Context, ListsDevices) {
  auto devices = vk::Context::list_devices();
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices[0].rfind("0: ", 0), 0u) << devices[0];
}

TEST(Context, SelectsDeviceByNameAndIndex) {
  std::string name = context().caps().name;
  vk::ContextOptions by_name;
  by_name.device = name.substr(0, 4);  // a case-insensitive substring
  for (auto& c : by_name.device) c = char(std::toupper(static_cast<unsigned char>(c)));
  vk::Context a(by_name);
  EXPECT_EQ(a.caps().name.substr(0, 4), name.substr(0, 4));
  vk::ContextOptions by_index;
  by_index.device = "0";
  vk::Context b(by_index);
  EXPECT_FALSE(b.caps().name.empty());
}

TEST(Context, UnknownDeviceIsAClearError) {
  vk::ContextOptions o;
  o.device = "no-such-gpu-xyz";
  try {
    vk::Context c(o);
    FAIL() << "expected an error";
  } catch (const vk::VulkanError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("no-such-gpu-xyz"), std::string::npos) << msg;
    EXPECT_NE(msg.find("devices:"), std::string::npos) << msg;
  }
}

TEST(Memory, ArenaReusesFreedBlocks) {
  auto& pool = context().activations();
  auto before = pool.stats();
  VkDeviceSize offset;
  VkBuffer buffer;
  {
    auto a = pool.allocate(1 << 20);
    offset = a->offset;
    buffer = a->buffer;
  }
  auto b = pool.allocate(1 << 20);
  EXPECT_EQ(b->buffer, buffer);
  EXPECT_EQ(b->offset, offset);  // first fit lands on the freed range
  EXPECT_EQ(pool.stats().reserved_bytes, std::max(before.reserved_bytes, pool.stats().reserved_bytes));
}

TEST(Memory, FreeRangesCoalesce) {
  vk::MemoryPool pool(context(), vk::MemoryPool::Kind::kDeviceLocal, "test", 4 << 20);
  {
    auto a = pool.allocate(1 << 20);
    auto b = pool.allocate(1 << 20);
    auto c = pool.allocate(1 << 20);
    EXPECT_EQ(pool.stats().blocks, 1u);
    EXPECT_EQ(pool.stats().used_bytes, 3u << 20);
  }
  EXPECT_EQ(pool.stats().used_bytes, 0u);
  auto big = pool.allocate(4 << 20);  // fits only if the three ranges merged back into one
  EXPECT_EQ(pool.stats().blocks, 1u);
  EXPECT_EQ(pool.stats().peak_used_bytes, 4u << 20);
}

TEST(Memory, LargeAllocationGetsItsOwnBlockAndTrimReturnsIt) {
  vk::MemoryPool pool(context(), vk::MemoryPool::Kind::kDeviceLocal, "test", 1 << 20);
  { auto a = pool.allocate(3 << 20); EXPECT_GE(pool.stats().reserved_bytes, 3u << 20); }
  pool.trim();
  EXPECT_EQ(pool.stats().reserved_bytes, 0u);
  EXPECT_EQ(pool.stats().blocks, 0u);
}

TEST(Memory, ImpossibleAllocationThrowsOutOfMemory) {
  vk::MemoryPool pool(context(), vk::MemoryPool::Kind::kDeviceLocal, "test");
  try {
    pool.allocate(VkDeviceSize(1) << 50);  // a petabyte
    FAIL() << "expected an error";
  } catch (const vk::VulkanError& e) {
    EXPECT_NE(std::string(e.what()).find("test"), std::string::npos) << e.what();
  }
}

TEST(PipelineCache, SameKeySamePipeline) {
  vk::PipelineKey key;
  key.shader = "elementwise/binary";
  key.bindings = 3;
  key.workgroup = {128, 1, 1};
  auto& cache = context().pipelines();
  const vk::Pipeline& a = cache.get(key);
  size_t n = cache.size();
  const vk::Pipeline& b = cache.get(key);
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(cache.size(), n);
  key.workgroup = {64, 1, 1};
  const vk::Pipeline& c = cache.get(key);
  EXPECT_NE(a.pipeline, c.pipeline);
  EXPECT_EQ(a.label, "elementwise/binary[f32]");
}

TEST(PipelineCache, MissingShaderNamesIt) {
  vk::PipelineKey key;
  key.shader = "nope/missing";
  key.bindings = 1;
  try {
    context().pipelines().get(key);
    FAIL() << "expected an error";
  } catch (const vk::VulkanError& e) {
    EXPECT_NE(std::string(e.what()).find("nope/missing"), std::string::npos) << e.what();
  }
}

TEST(Stream, IndependentDispatchesShareNoBarrierDependentOnesDo) {
  vk::Stream s(context());
  Tensor a = from_host(s, {1024}, DType::F32, std::vector<float>(1024, 1.0f));
  Tensor b = from_host(s, {1024}, DType::F32, std::vector<float>(1024, 2.0f));
  uint32_t before = s.barriers_recorded();
  Tensor x = ops::add(s, a, b);  // reads a, b
  Tensor y = ops::mul(s, a, b);  // independent of x: no barrier needed
  EXPECT_EQ(s.barriers_recorded(), before);
  Tensor z = ops::add(s, x, y);  // reads both results: one barrier
  EXPECT_EQ(s.barriers_recorded(), before + 1);
  EXPECT_EQ(s.pending(), 3u);
  auto got = to_host(s, z);  // the download adds one more (read after write)
  for (float v : got) ASSERT_EQ(v, 5.0f);
}

TEST(Stream, MemoryReusedWithinOneRecordingStaysCorrect) {
  // Tensors freed mid-recording hand their memory to later ops of the same command buffer;
  // the write-after-read barrier keeps the earlier readers correct.
  vk::Stream s(context());
  const int n = 4096;
  Tensor acc = from_host(s, {n}, DType::F32, std::vector<float>(n, 0.0f));
  Tensor one = from_host(s, {n}, DType::F32, std::vector<float>(n, 1.0f));
  for (int i = 0; i < 50; ++i) {
    Tensor tmp = ops::add(s, acc, one);  // the previous acc's memory is freed when reassigned
    acc = ops::mul(s, tmp, one);
  }
  auto got = to_host(s, acc);
  for (float v : got) ASSERT_EQ(v, 50.0f);
}

TEST(Stream, TimestampsTimeEachDispatch) {
  if (!context().caps().timestamps) {
    // Devices without timestamp support return no timings; that is the documented behaviour.
    vk::Stream s(context(), true);
    s.submit();
    EXPECT_TRUE(s.timings().empty());
    return;
  }
  vk::Stream s(context(), /*profile=*/true);
  Tensor a = from_host(s, {1 << 16}, DType::F32, std::vector<float>(1 << 16, 1.0f));
  ops::add(s, a, a);
  ops::mul(s, a, a);
  s.submit();
  ASSERT_EQ(s.timings().size(), 2u);
  EXPECT_EQ(s.timings()[0].label, "elementwise/binary[f32]");
  EXPECT_GE(s.timings()[0].ms, 0.0);
  // ... with its shape: workgroup counts (vkdream-bench --profile-shapes groups by them)
  for (const auto& t : s.timings()) {
    EXPECT_GE(t.groups[0], 1u);
    EXPECT_GE(t.groups[1], 1u);
    EXPECT_GE(t.groups[2], 1u);
    EXPECT_GE(uint64_t(t.groups[0]) * t.groups[1] * t.groups[2] * 8, uint64_t(1) << 16 >> 6);
  }
}

TEST(Stream, BindingOverTheDeviceLimitIsAnError) {
  auto limit = context().caps().max_storage_buffer_range;
  if (limit >= (VkDeviceSize(1) << 32)) {
    // A limit this large cannot be exceeded by a tensor we would allocate in a test.
    SUCCEED();
    return;
  }
  vk::Stream s(context());
  Tensor big = Tensor::empty(context(), {int64_t(limit / 4 + 64)}, DType::F32);
  Tensor small = Tensor::empty(context(), {1}, DType::F32);
  // Bound directly: the ops split tensors over the binding range into windows that fit.
  vk::PipelineKey key;
  key.shader = "elementwise/affine_clamp";
  key.bindings = 2;
  key.workgroup = {256, 1, 1};
  const vk::Pipeline& p = context().pipelines().get(key);
  uint32_t pc[8] = {};
  try {
    s.dispatch(p, {big.ref()}, {small.ref()}, pc, sizeof(pc), 1);
    FAIL() << "expected an error";
  } catch (const vk::VulkanError& e) {
    EXPECT_NE(std::string(e.what()).find("binding limit"), std::string::npos) << e.what();
  }
}

TEST(Tensor, HalfConversionRoundTripsAndRounds) {
  for (float f : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f})
    EXPECT_EQ(half_to_float(float_to_half(f)), f) << f;
  EXPECT_EQ(half_to_float(float_to_half(1e6f)), INFINITY);
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 4096), float_to_half(1.0f));  // ties to even
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
}

TEST(Tensor, ReshapeAndSliceAreViews) {
  vk::Stream s(context());
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[i] = float(i);
  Tensor t = from_host(s, {4, 6}, DType::F32, v);
  Tensor r = t.reshape({2, 12});
  EXPECT_EQ(r.allocation(), t.allocation());
  auto rows = to_host(s, t.slice0(2, 2));
  ASSERT_EQ(rows.size(), 12u);
  EXPECT_EQ(rows[0], 12.0f);
  EXPECT_THROW(t.reshape({5, 5}), std::invalid_argument);
  EXPECT_THROW(t.slice0(3, 2), std::out_of_range);
}

}  // namespace
}  // namespace vkdream::test

namespace vkdream::test {
namespace {

// The validation pass is only worth something if errors are really counted: provoke one.
TEST(Context, ValidationLayerCountsErrors) {
  vk::ContextOptions o;
  o.validation = true;
  vk::Context ctx(o);
  ASSERT_TRUE(ctx.validation_enabled());
  uint64_t before = ctx.validation_errors();
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = 0;  // invalid: VUID-VkBufferCreateInfo-size-00912
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  VkBuffer buf = VK_NULL_HANDLE;
  std::fprintf(stderr, "[test] the next validation error is provoked on purpose\n");
  vkCreateBuffer(ctx.device(), &bi, nullptr, &buf);
  if (buf) vkDestroyBuffer(ctx.device(), buf, nullptr);
  EXPECT_GT(ctx.validation_errors(), before);
}

}  // namespace
}  // namespace vkdream::test
