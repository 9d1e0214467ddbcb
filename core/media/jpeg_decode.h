// JPEG header reading and decoding with libjpeg-turbo (fuzzed upstream), used instead of stb_image for JPEG:
// stb_image 2.27 (Debian 12) writes out of bounds on a DHT segment whose code counts exceed 256, and even
// its header probe parses DHT. Internal to vkdream_media; image_decode.h is the interface.
#pragma once

#include <string_view>

#include "media/image_decode.h"

namespace vkdream::media {

// Width, height and channels (1 gray, 3 colour) from the JPEG header. Throws ImageError.
ImageInfo jpeg_probe(std::string_view bytes);

// Decodes to 8-bit gray (1) or RGB (3) as stored; the caller has checked the limits with jpeg_probe.
// CMYK/YCCK (Adobe) is converted to RGB. Throws ImageError for corrupt or truncated data.
DecodedImage jpeg_decode(std::string_view bytes);

}  // namespace vkdream::media
