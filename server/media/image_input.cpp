#include "media/image_input.h"

#include <algorithm>
#include <cctype>

#include "media/base64.h"
#include "media/data_uri.h"

namespace vkdream::media {
namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

}  // namespace

ImageRef classify_image_ref(std::string_view value, const ImageLimits& limits) {
  ImageRef ref;
  if (starts_with_ci(value, "http://") || starts_with_ci(value, "https://")) {
    ref.kind = ImageRefKind::Url;
    return ref;
  }
  if (auto uri = parse_data_uri(value)) {
    ref.kind = ImageRefKind::DataUri;
    if (!uri->is_base64) throw ImageError("data URI images must be base64 encoded");
    std::string error;
    auto bytes = base64_decode(uri->payload, limits.max_encoded_bytes, &error);
    if (!bytes) throw ImageError("data URI: " + error);
    ref.type = sniff_image_type(*bytes);
    if (ref.type == ImageType::Unknown) throw ImageError("data URI is not a PNG, JPEG, WebP, GIF or BMP image");
    ref.bytes = std::move(*bytes);
    return ref;
  }
  // Bare base64: only when it decodes AND the result starts with image magic bytes. A file name such as
  // "photo.png" has a '.' (not in the alphabet), and a name that happens to decode will not decode to an image.
  // Cheap prefix check first, so long file names are not decoded in full.
  {
    const size_t head_chars = std::min<size_t>(value.size(), 48) / 4 * 4;
    std::string error;
    auto head = base64_decode(value.substr(0, head_chars), 36, &error);
    if (head && sniff_image_type(*head) != ImageType::Unknown) {
      auto bytes = base64_decode(value, limits.max_encoded_bytes, &error);
      if (!bytes) throw ImageError("base64 image: " + error);
      ref.kind = ImageRefKind::Base64;
      ref.type = sniff_image_type(*bytes);
      ref.bytes = std::move(*bytes);
      return ref;
    }
  }
  // Longer than any file name (255 bytes on Linux): say what is wrong instead of looking for such a file.
  if (value.size() > 255) {
    std::string error;
    if (base64_decode(value, limits.max_encoded_bytes, &error))
      throw ImageError("base64 data is not a PNG, JPEG, WebP, GIF or BMP image");
    throw ImageError("not an http(s) URL, a base64 image or a file name (" + error + ")");
  }
  ref.kind = ImageRefKind::FileName;
  return ref;
}

}  // namespace vkdream::media
