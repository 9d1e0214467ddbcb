// Decoding of untrusted input images (PNG/JPEG/GIF/BMP with stb_image, WebP with libwebp). The limits of
// reliability.md are enforced from the header BEFORE any pixel buffer is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "media/image_type.h"

namespace vkdream::media {

struct ImageLimits {
  size_t max_encoded_bytes = 16u << 20;     // 16 MiB encoded
  uint64_t max_pixels = 4096ull * 4096ull;  // 16.8 megapixels
  int max_side = 8192;                      // pixels per side
};

// A rejected image; `what()` is a message fit for a 400 answer ("image is 9000x9000, more than ...").
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ImageInfo {
  ImageType type = ImageType::Unknown;
  int width = 0;
  int height = 0;
  int channels = 0;  // as stored: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
};

struct DecodedImage {
  int width = 0;
  int height = 0;
  int channels = 0;              // channels in `pixels`
  std::vector<uint8_t> pixels;   // row-major, interleaved, 8 bits per channel
};

// Reads only the header: type, size, channels. Throws ImageError for an unknown type, an unreadable
// header or anything over `limits`.
ImageInfo probe_image(std::string_view bytes, const ImageLimits& limits = {});

// probe_image, then decodes the first frame to 8-bit pixels. `channels` 0 keeps the stored count, 1..4
// converts (3 drops alpha, 4 adds opaque alpha). Throws ImageError.
DecodedImage decode_image(std::string_view bytes, int channels = 0, const ImageLimits& limits = {});

}  // namespace vkdream::media
