// Image bytes as LoadImage, /upload/image and image URLs deliver them: an ImageError, or pixels of the size the
// header promised, within the limits.
#include <cstdint>
#include <string_view>

#include "media/image_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkdream::media;
  ImageLimits limits;
  limits.max_pixels = 1u << 20;  // keep each run quick; the checks are the same
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (int channels : {0, 3}) {
    try {
      DecodedImage img = decode_image(bytes, channels, limits);
      if (img.pixels.size() != size_t(img.width) * img.height * img.channels) __builtin_trap();
      if (uint64_t(img.width) * img.height > limits.max_pixels) __builtin_trap();
    } catch (const ImageError&) {
    }
  }
  return 0;
}
