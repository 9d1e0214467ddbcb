// What an `image` string in a prompt is (api.md): an http(s) URL, a data: URI, bare base64 of an image, or
// a file name in INPUT_DIR. Bare base64 is recognised by decoding it and finding image magic bytes, so a
// file name is never mistaken for base64.
#pragma once

#include <string>
#include <string_view>

#include "media/image_decode.h"

namespace vkdream::media {

enum class ImageRefKind { Url, DataUri, Base64, FileName };

struct ImageRef {
  ImageRefKind kind = ImageRefKind::FileName;
  std::string bytes;                  // decoded image (DataUri, Base64)
  ImageType type = ImageType::Unknown;  // sniffed from `bytes` (DataUri, Base64)
};

// Classifies `value`. Data URIs are decoded (with the encoded-size cap of `limits`) and must hold a
// known image type, else ImageError ("data URI is not a PNG, JPEG, WebP, GIF or BMP image"); so must a
// value longer than a file name can be (255 bytes). For Url and FileName nothing is fetched or opened.
ImageRef classify_image_ref(std::string_view value, const ImageLimits& limits = {});

}  // namespace vkdream::media
