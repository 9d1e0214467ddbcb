#include "graph/gpu_service.h"

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <exception>
#include <mutex>
#include <string>

#include "graph/sd_payloads.h"
#include "vkdream/plugin.hpp"
#include "vulkan/pipeline_cache.h"
#include "vulkan/shader_registry.h"
#include "vulkan/stream.h"

struct VkdTensor {
  vkdream::Tensor t;
  std::atomic<int64_t> refs{1};
};
struct VkdPipeline {
  vkdream::vk::PipelineKey key;
  uint32_t bindings = 0;
};

namespace vkdream::graph {

namespace {

thread_local std::string t_error;

VkdStatus fail(const std::string& msg, VkdStatus st = VKD_ERROR) {
  t_error = msg;
  return st;
}

CoreServices& core_of(const VkdHost* host) { return core_services(host); }

template <class F>
VkdStatus guarded(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return fail("out of memory", VKD_ERROR_OUT_OF_MEMORY);
  } catch (const std::exception& e) {
    return fail(e.what());
  } catch (...) {
    return fail("unknown error");
  }
}

VkdTensor* wrap(Tensor t) {
  auto* h = new VkdTensor;
  h->t = std::move(t);
  return h;
}

VkdTensor* object_tensor(const VkdObject* obj) {
  if (!obj || !obj->payload_tag) return nullptr;
  std::string tag = obj->payload_tag;
  if (tag == payload::kImageTag) return wrap(static_cast<const payload::Image*>(obj->payload)->pixels);
  if (tag == payload::kMaskTag) return wrap(static_cast<const payload::Mask*>(obj->payload)->mask);
  if (tag == payload::kLatentTag) return wrap(static_cast<const payload::Latent*>(obj->payload)->samples);
  t_error = std::string("object of type ") + (obj->type_name ? obj->type_name : "?") + " holds no tensor";
  return nullptr;
}

VkdObject* make_object(const char* type_name, VkdTensor* t) {
  if (!type_name || !t) return nullptr;
  std::string type = type_name;
  uint64_t bytes = t->t.bytes();
  if (type == "IMAGE") return vkd::make_object<payload::Image>("IMAGE", payload::kImageTag, bytes, payload::Image{t->t});
  if (type == "MASK") return vkd::make_object<payload::Mask>("MASK", payload::kMaskTag, bytes, payload::Mask{t->t});
  if (type == "LATENT")
    return vkd::make_object<payload::Latent>("LATENT", payload::kLatentTag, bytes, payload::Latent{t->t, std::nullopt, {}});
  t_error = "make_object: type " + type + " cannot wrap a tensor (IMAGE, MASK, LATENT)";
  return nullptr;
}

VkdStatus tensor_desc(const VkdTensor* t, VkdTensorDesc* out) {
  if (!t || !out) return fail("tensor_desc: null argument", VKD_ERROR_INVALID_ARGUMENT);
  if (t->t.rank() > VKD_MAX_RANK) return fail("tensor rank above VKD_MAX_RANK");
  VkdTensorDesc d{};
  d.struct_size = sizeof(VkdTensorDesc);
  d.dtype = t->t.dtype() == DType::F16 ? VKD_DTYPE_F16 : VKD_DTYPE_F32;
  d.rank = uint32_t(t->t.rank());
  for (int i = 0; i < t->t.rank(); ++i) d.shape[i] = t->t.dim(i);
  std::memcpy(out, &d, std::min<size_t>(out->struct_size ? out->struct_size : sizeof d, sizeof d));
  return VKD_OK;
}

VkdTensor* tensor_create(const VkdHost* host, const VkdTensorDesc* desc) {
  VkdTensor* out = nullptr;
  VkdStatus st = guarded([&] {
    if (!desc || desc->rank == 0 || desc->rank > VKD_MAX_RANK || desc->dtype > VKD_DTYPE_F16)
      return fail("tensor_create: bad descriptor", VKD_ERROR_INVALID_ARGUMENT);
    Shape shape(desc->shape, desc->shape + desc->rank);
    for (int64_t d : shape)
      if (d <= 0 || d > (int64_t(1) << 31)) return fail("tensor_create: bad dimension", VKD_ERROR_INVALID_ARGUMENT);
    out = wrap(Tensor::empty(core_of(host).context(), shape, desc->dtype == VKD_DTYPE_F16 ? DType::F16 : DType::F32));
    return VkdStatus(VKD_OK);
  });
  return st == VKD_OK ? out : nullptr;
}

void tensor_retain(VkdTensor* t) {
  if (t) t->refs.fetch_add(1);
}
void tensor_release(VkdTensor* t) {
  if (t && t->refs.fetch_sub(1) == 1) delete t;
}

VkdStatus tensor_write(const VkdHost* host, VkdTensor* t, const float* values, uint64_t count) {
  return guarded([&] {
    if (!t || !values || count != uint64_t(t->t.numel())) return fail("tensor_write: wrong element count", VKD_ERROR_INVALID_ARGUMENT);
    vk::Stream s(core_of(host).context());
    upload(s, t->t, std::vector<float>(values, values + count));
    s.submit();
    return VkdStatus(VKD_OK);
  });
}

VkdStatus tensor_read(const VkdHost* host, const VkdTensor* t, float* values, uint64_t count) {
  return guarded([&] {
    if (!t || !values || count != uint64_t(t->t.numel())) return fail("tensor_read: wrong element count", VKD_ERROR_INVALID_ARGUMENT);
    vk::Stream s(core_of(host).context());
    std::vector<float> v = to_host(s, t->t);
    std::memcpy(values, v.data(), count * sizeof(float));
    return VkdStatus(VKD_OK);
  });
}

std::mutex g_pipelines_mu;
std::map<std::string, std::unique_ptr<VkdPipeline>> g_pipelines;  // by name + workgroup + bindings

VkdStatus pipeline(const VkdHost* host, const VkdPipelineDesc* desc, VkdPipeline** out) {
  return guarded([&] {
    if (!desc || !out || !desc->name || !desc->spirv || desc->word_count < 5 || desc->spirv[0] != 0x07230203u)
      return fail("pipeline: missing name or not SPIR-V", VKD_ERROR_INVALID_ARGUMENT);
    std::string name = std::string("plugin/") + desc->name;
    if (!vk::register_shader(name, vk::Variant::kF32, desc->spirv, size_t(desc->word_count)))
      return fail("pipeline: another shader is already registered as " + name, VKD_ERROR_INVALID_ARGUMENT);
    std::string id = name + "#" + std::to_string(desc->workgroup[0]) + "," + std::to_string(desc->workgroup[1]) + "," +
                     std::to_string(desc->workgroup[2]) + "/" + std::to_string(desc->bindings);
    {
      std::lock_guard<std::mutex> lock(g_pipelines_mu);
      if (auto it = g_pipelines.find(id); it != g_pipelines.end()) {
        *out = it->second.get();
        return VkdStatus(VKD_OK);
      }
    }
    auto p = std::make_unique<VkdPipeline>();
    p->key.shader = name;
    p->key.variant = vk::Variant::kF32;
    for (int i = 0; i < 3; ++i) p->key.workgroup[size_t(i)] = desc->workgroup[i] ? desc->workgroup[i] : 1;
    p->key.bindings = desc->bindings;
    p->bindings = desc->bindings;
    core_of(host).context().pipelines().get(p->key);  // build now: a bad shader fails here, not mid-prompt
    std::lock_guard<std::mutex> lock(g_pipelines_mu);
    auto& slot = g_pipelines[id];
    if (!slot) slot = std::move(p);  // owned by the process, like the pipelines the cache keeps
    *out = slot.get();
    return VkdStatus(VKD_OK);
  });
}

VkdStatus dispatch(const VkdHost* host, VkdPipeline* p, VkdTensor* const* tensors, uint32_t count, const void* push,
                   uint32_t push_bytes, const uint32_t groups[3]) {
  return guarded([&] {
    if (!p || !groups || count != p->bindings || (count && !tensors) || push_bytes > vk::kMaxPushConstantBytes)
      return fail("dispatch: tensor count must equal the pipeline's bindings, push constants <= 128 bytes",
                  VKD_ERROR_INVALID_ARGUMENT);
    vk::Context& ctx = core_of(host).context();
    const vk::Pipeline& pl = ctx.pipelines().get(p->key);
    std::vector<vk::BufferRef> refs;
    for (uint32_t i = 0; i < count; ++i) {
      if (!tensors[i]) return fail("dispatch: null tensor", VKD_ERROR_INVALID_ARGUMENT);
      refs.push_back(tensors[i]->t.ref());
    }
    vk::Stream s(ctx);
    // Every binding may be written: pass them all as outputs so the stream orders them conservatively.
    s.dispatch(pl, std::vector<vk::BufferRef>{}, refs, push, push_bytes, groups[0], groups[1], groups[2]);
    s.submit();
    return VkdStatus(VKD_OK);
  });
}

const char* last_error() { return t_error.c_str(); }

}  // namespace

GpuService::GpuService(CoreServices& core) : core_(core) {
  table_.struct_size = sizeof(VkdGpuService);
  table_.version = 1;
  table_.object_tensor = &object_tensor;
  table_.make_object = &make_object;
  table_.tensor_desc = &tensor_desc;
  table_.tensor_create = &tensor_create;
  table_.tensor_retain = &tensor_retain;
  table_.tensor_release = &tensor_release;
  table_.tensor_write = &tensor_write;
  table_.tensor_read = &tensor_read;
  table_.pipeline = &pipeline;
  table_.dispatch = &dispatch;
  table_.last_error = &last_error;
}

}  // namespace vkdream::graph
