// IEEE binary16 <-> binary32 conversions (round to nearest even, subnormals, inf/nan kept).
// Used for uploads of f16 tensors, safetensors F16 reads, and by tests.
#pragma once
#include <cstdint>

namespace vkdream {

uint16_t float_to_half(float f);
float half_to_float(uint16_t h);

}  // namespace vkdream
