// A .safetensors image: either a SafetensorsError (the documented refusal) or a file whose every tensor can be
// read and converted without reading outside the buffer.
#include <cstdint>

#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkdream::model;
  try {
    auto f = SafetensorsFile::from_memory(data, size, "fuzz.safetensors");
    for (const TensorInfo& t : f->tensors()) {
      if (t.end - t.begin > (64u << 20)) continue;  // validated sizes, just too slow to convert
      try {
        volatile size_t n = (t.dtype == StDType::F32 || t.dtype == StDType::F16 || t.dtype == StDType::BF16)
                                ? f->to_float(t).size()
                                : f->to_int64(t).size();
        (void)n;
      } catch (const SafetensorsError&) {
      }
      (void)f->find(t.name);
    }
  } catch (const SafetensorsError&) {
  }
  return 0;
}
