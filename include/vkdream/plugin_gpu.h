/* vkdream plugin ABI: the GPU service ("vkd.gpu", version 1), for plugins that run their own compute shaders.
 *
 *   const VkdGpuService* gpu = host->get_service(host, VKD_SERVICE_GPU, 1);
 *
 * Tensors are dense row-major device buffers (f32 or f16), refcounted handles. IMAGE objects hold a
 * [B, H, W, C] f32 tensor in [0, 1] (ComfyUI's layout), MASK objects [B, H, W] f32, LATENT objects their
 * samples [B, 4, H/8, W/8] f32. A plugin's shader is SPIR-V it compiled itself (glslangValidator); its storage
 * buffers are bindings 0..n-1 in the order the tensors are passed to dispatch, its push constants at most 128
 * bytes, and its workgroup size comes from specialization constants 0, 1, 2 (declare
 * `layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;`), set from VkdPipelineDesc.
 * Every call returns VKD_OK or an error whose message last_error() gives (per thread). dispatch runs the work
 * to completion before returning, so tensor_read after it sees the results.
 */
#ifndef VKDREAM_PLUGIN_GPU_H
#define VKDREAM_PLUGIN_GPU_H

#include "vkdream/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VKD_SERVICE_GPU "vkd.gpu"

#define VKD_DTYPE_F32 0
#define VKD_DTYPE_F16 1
#define VKD_MAX_RANK 8

typedef struct VkdTensor VkdTensor;     /* opaque, refcounted */
typedef struct VkdPipeline VkdPipeline; /* opaque, owned by the host for the life of the process */

typedef struct VkdTensorDesc {
  uint32_t struct_size;
  uint32_t dtype; /* VKD_DTYPE_* */
  uint32_t rank;  /* 1..VKD_MAX_RANK */
  int64_t shape[VKD_MAX_RANK];
} VkdTensorDesc;

typedef struct VkdPipelineDesc {
  uint32_t struct_size;
  const char* name;        /* unique per shader, e.g. "example/sepia"; the pipeline is cached under it */
  const uint32_t* spirv;
  uint64_t word_count;
  uint32_t bindings;       /* storage buffers 0..bindings-1 */
  uint32_t workgroup[3];   /* specialization constants 0, 1, 2 */
} VkdPipelineDesc;

typedef struct VkdGpuService {
  uint32_t struct_size;
  uint32_t version; /* 1 */
  /* The tensor of an IMAGE, MASK or LATENT object: a new reference (release it), NULL for other objects. */
  VkdTensor* (*object_tensor)(const VkdObject* obj);
  /* A new IMAGE / MASK / LATENT object holding t (which keeps its own reference); one reference to the caller. */
  VkdObject* (*make_object)(const char* type_name, VkdTensor* t);
  VkdStatus (*tensor_desc)(const VkdTensor* t, VkdTensorDesc* out);
  /* A new device tensor, contents undefined; NULL on failure (last_error says why). */
  VkdTensor* (*tensor_create)(const VkdHost* host, const VkdTensorDesc* desc);
  void (*tensor_retain)(VkdTensor* t);
  void (*tensor_release)(VkdTensor* t);
  /* Host float values <-> device (converted to/from the tensor's dtype); count must equal the element count. */
  VkdStatus (*tensor_write)(const VkdHost* host, VkdTensor* t, const float* values, uint64_t count);
  VkdStatus (*tensor_read)(const VkdHost* host, const VkdTensor* t, float* values, uint64_t count);
  VkdStatus (*pipeline)(const VkdHost* host, const VkdPipelineDesc* desc, VkdPipeline** out);
  /* Binds tensors[i] to binding i, pushes `push` (<= 128 bytes), dispatches groups[0..2] workgroups, waits. */
  VkdStatus (*dispatch)(const VkdHost* host, VkdPipeline* p, VkdTensor* const* tensors, uint32_t tensor_count,
                        const void* push, uint32_t push_bytes, const uint32_t groups[3]);
  const char* (*last_error)(void);
} VkdGpuService;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VKDREAM_PLUGIN_GPU_H */
