#include "media/image_type.h"

#include <cstring>

namespace vkdream::media {

ImageType sniff_image_type(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  auto starts = [&](const char* magic, size_t n, size_t at = 0) {
    return size >= at + n && std::memcmp(p + at, magic, n) == 0;
  };
  if (starts("\x89PNG\r\n\x1a\n", 8)) return ImageType::PNG;
  if (starts("\xff\xd8\xff", 3)) return ImageType::JPEG;
  if (starts("RIFF", 4) && starts("WEBP", 4, 8)) return ImageType::WebP;
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return ImageType::GIF;
  if (starts("BM", 2) && size >= 26) return ImageType::BMP;  // 14-byte file header + a DIB header
  return ImageType::Unknown;
}

const char* image_mime_type(ImageType type) {
  switch (type) {
    case ImageType::PNG: return "image/png";
    case ImageType::JPEG: return "image/jpeg";
    case ImageType::WebP: return "image/webp";
    case ImageType::GIF: return "image/gif";
    case ImageType::BMP: return "image/bmp";
    case ImageType::Unknown: break;
  }
  return "application/octet-stream";
}

const char* image_type_name(ImageType type) {
  switch (type) {
    case ImageType::PNG: return "png";
    case ImageType::JPEG: return "jpeg";
    case ImageType::WebP: return "webp";
    case ImageType::GIF: return "gif";
    case ImageType::BMP: return "bmp";
    case ImageType::Unknown: break;
  }
  return "";
}

const char* image_file_extension(ImageType type) {
  return type == ImageType::JPEG ? "jpg" : image_type_name(type);
}

}  // namespace vkdream::media
