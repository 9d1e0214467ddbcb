// Image container type from magic bytes (never from a file name or a Content-Type header).
#pragma once

#include <cstddef>
#include <string_view>

namespace vkdream::media {

enum class ImageType { Unknown, PNG, JPEG, WebP, GIF, BMP };

// The type of an encoded image from its first bytes; Unknown when none matches.
ImageType sniff_image_type(const void* data, size_t size);
inline ImageType sniff_image_type(std::string_view bytes) { return sniff_image_type(bytes.data(), bytes.size()); }

// "image/png", ...; "application/octet-stream" for Unknown.
const char* image_mime_type(ImageType type);
// "png", "jpeg", "webp", "gif", "bmp"; "" for Unknown.
const char* image_type_name(ImageType type);
// File extension without the dot: "png", "jpg", "webp", "gif", "bmp"; "" for Unknown.
const char* image_file_extension(ImageType type);

}  // namespace vkdream::media
