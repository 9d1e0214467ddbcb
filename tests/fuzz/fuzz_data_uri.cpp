// Image input strings of the serving API: base64, data: URIs, URLs (classified, not fetched).
#include <cstdint>
#include <string_view>

#include "media/base64.h"
#include "media/data_uri.h"
#include "media/image_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkdream;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = media::base64_decode(text, 1u << 20)) {
    if (d->size() > media::base64_decoded_size_bound(text)) __builtin_trap();
    if (media::base64_decode(media::base64_encode(*d), 1u << 20) != d) __builtin_trap();
  }
  (void)media::parse_data_uri(text);
  try {
    (void)media::classify_image_ref(text);
  } catch (const media::ImageError&) {
  }
  return 0;
}
