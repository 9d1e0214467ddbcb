#include "media/image_decode.h"

#include "media/jpeg_decode.h"

#include <webp/decode.h>

#include <cstdlib>
#include <memory>

// stb_image compiled privately into this file (static symbols), only the formats it decodes for us (JPEG
// goes to libjpeg-turbo, WebP to libwebp), no stdio.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_ONLY_PNG
#define STBI_ONLY_GIF
#define STBI_ONLY_BMP
#define STBI_MAX_DIMENSIONS (1 << 16)  // a second line of defence; ImageLimits is checked first
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace vkdream::media {
namespace {

std::string dims(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

void check_limits(const ImageInfo& info, const ImageLimits& limits) {
  if (info.width <= 0 || info.height <= 0) throw ImageError("image has an invalid size " + dims(info.width, info.height));
  if (info.width > limits.max_side || info.height > limits.max_side)
    throw ImageError("image is " + dims(info.width, info.height) + ", more than " + std::to_string(limits.max_side) +
                     " pixels a side");
  const uint64_t pixels = uint64_t(info.width) * uint64_t(info.height);
  if (pixels > limits.max_pixels)
    throw ImageError("image is " + dims(info.width, info.height) + " (" + std::to_string(pixels) +
                     " pixels), more than the limit of " + std::to_string(limits.max_pixels));
}

// Converts interleaved 8-bit pixels between channel counts as stb_image does (luma = (77r+150g+29b)>>8).
std::vector<uint8_t> convert_channels(const uint8_t* src, size_t count, int from, int to) {
  std::vector<uint8_t> out(count * size_t(to));
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* s = src + i * size_t(from);
    uint8_t* d = out.data() + i * size_t(to);
    const bool gray_in = from <= 2;
    const uint8_t r = s[0], g = gray_in ? s[0] : s[1], b = gray_in ? s[0] : s[2];
    const uint8_t a = from == 2 ? s[1] : from == 4 ? s[3] : 255;
    const uint8_t y = gray_in ? s[0] : uint8_t((r * 77 + g * 150 + b * 29) >> 8);
    switch (to) {
      case 1: d[0] = y; break;
      case 2: d[0] = y; d[1] = a; break;
      case 3: d[0] = r; d[1] = g; d[2] = b; break;
      default: d[0] = r; d[1] = g; d[2] = b; d[3] = a; break;
    }
  }
  return out;
}

DecodedImage decode_webp(std::string_view bytes, const ImageInfo& info, int channels) {
  const int decoded_channels = info.channels == 4 ? 4 : 3;
  DecodedImage img;
  img.width = info.width;
  img.height = info.height;
  img.channels = decoded_channels;
  img.pixels.resize(size_t(info.width) * size_t(info.height) * size_t(decoded_channels));
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  const int stride = info.width * decoded_channels;
  const uint8_t* ok = decoded_channels == 4
                          ? WebPDecodeRGBAInto(data, bytes.size(), img.pixels.data(), img.pixels.size(), stride)
                          : WebPDecodeRGBInto(data, bytes.size(), img.pixels.data(), img.pixels.size(), stride);
  if (!ok) throw ImageError("cannot decode the WebP image (corrupt or truncated)");
  if (channels != 0 && channels != decoded_channels) {
    img.pixels = convert_channels(img.pixels.data(), size_t(info.width) * size_t(info.height), decoded_channels, channels);
    img.channels = channels;
  }
  return img;
}

}  // namespace

ImageInfo probe_image(std::string_view bytes, const ImageLimits& limits) {
  if (bytes.size() > limits.max_encoded_bytes)
    throw ImageError("image is " + std::to_string(bytes.size()) + " bytes, more than the limit of " +
                     std::to_string(limits.max_encoded_bytes));
  ImageInfo info;
  info.type = sniff_image_type(bytes);
  if (info.type == ImageType::Unknown) throw ImageError("not a PNG, JPEG, WebP, GIF or BMP image");
  if (bytes.size() > size_t(INT32_MAX)) throw ImageError("image too large");
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (info.type == ImageType::WebP) {
    WebPBitstreamFeatures f;
    if (WebPGetFeatures(data, bytes.size(), &f) != VP8_STATUS_OK) throw ImageError("cannot read the WebP image header");
    if (f.has_animation) throw ImageError("animated WebP images are not supported");
    info.width = f.width;
    info.height = f.height;
    info.channels = f.has_alpha ? 4 : 3;
  } else if (info.type == ImageType::JPEG) {
    info = jpeg_probe(bytes);
  } else {
    if (!stbi_info_from_memory(data, static_cast<int>(bytes.size()), &info.width, &info.height, &info.channels))
      throw ImageError(std::string("cannot read the ") + image_type_name(info.type) + " image header (" +
                       stbi_failure_reason() + ")");
  }
  check_limits(info, limits);
  return info;
}

DecodedImage decode_image(std::string_view bytes, int channels, const ImageLimits& limits) {
  if (channels < 0 || channels > 4) throw ImageError("decode_image: channels must be 0..4");
  const ImageInfo info = probe_image(bytes, limits);
  if (info.type == ImageType::WebP) return decode_webp(bytes, info, channels);
  if (info.type == ImageType::JPEG) {
    DecodedImage img = jpeg_decode(bytes);
    if (img.width != info.width || img.height != info.height) throw ImageError("image size changed while decoding");
    if (channels != 0 && channels != img.channels) {
      img.pixels = convert_channels(img.pixels.data(), size_t(img.width) * size_t(img.height), img.channels, channels);
      img.channels = channels;
    }
    return img;
  }
  int w = 0, h = 0, stored = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &w, &h,
                            &stored, channels),
      stbi_image_free);
  if (!pixels)
    throw ImageError(std::string("cannot decode the ") + image_type_name(info.type) + " image (" +
                     stbi_failure_reason() + ")");
  // The frame must match the header that was checked (GIF frames, odd files).
  if (w != info.width || h != info.height) throw ImageError("image size changed while decoding");
  DecodedImage img;
  img.width = w;
  img.height = h;
  img.channels = channels ? channels : stored;
  img.pixels.assign(pixels.get(), pixels.get() + size_t(w) * size_t(h) * size_t(img.channels));
  return img;
}

}  // namespace vkdream::media
