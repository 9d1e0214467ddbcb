// Shared by the model tests that need the GPU: the tiny SD1.5 checkpoint (generated into the build tree
// on first use) loaded once per storage dtype, and a small in-memory .safetensors writer.
#pragma once
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/sd15_checkpoint.h"
#include "model/tiny_sd15.h"
#include "support/gpu_env.h"
#include "tensor/half.h"

namespace vkdream::test {

inline vk::Stream& model_stream() {
  static vk::Stream s(context());
  return s;
}

inline const model::SD15Models& tiny_models(DType storage) {
  model_stream();  // the device context first: statics die in reverse order, so it outlives the models below
  static std::map<DType, model::SD15Models> cache;
  auto it = cache.find(storage);
  if (it != cache.end()) return it->second;
  auto paths = model::ensure_tiny_sd15(VKDREAM_TINY_DIR);
  return cache[storage] = model::load_sd15_checkpoint(model_stream(), paths.f32, storage);
}

// A .safetensors file image: tensors in the given order, F32 or F16 (values rounded), no metadata.
struct StTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
  bool f16 = false;
};
inline std::vector<uint8_t> safetensors_image(const std::vector<StTensor>& tensors) {
  std::string header = "{";
  std::vector<uint8_t> data;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    size_t begin = data.size();
    for (float v : t.values) {
      if (t.f16) {
        uint16_t h = float_to_half(v);
        data.push_back(uint8_t(h & 0xff));
        data.push_back(uint8_t(h >> 8));
      } else {
        uint8_t b[4];
        std::memcpy(b, &v, 4);
        data.insert(data.end(), b, b + 4);
      }
    }
    std::string shape;
    for (size_t d = 0; d < t.shape.size(); ++d) shape += (d ? "," : "") + std::to_string(t.shape[d]);
    header += (i ? "," : "") + std::string("\"") + t.name + "\":{\"dtype\":\"" + (t.f16 ? "F16" : "F32") +
              "\",\"shape\":[" + shape + "],\"data_offsets\":[" + std::to_string(begin) + "," +
              std::to_string(data.size()) + "]}";
  }
  header += "}";
  while (header.size() % 8) header += ' ';
  std::vector<uint8_t> out(8);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

}  // namespace vkdream::test
