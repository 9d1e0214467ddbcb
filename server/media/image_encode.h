// Output conversion for `convert_output` (api.md): PNG, JPEG (libjpeg-turbo) or WebP (libwebp) with quality
// options, as comfyui-api does with sharp.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "graph/json_value.h"
#include "media/image_decode.h"

namespace vkdream::media {

enum class OutputFormat { PNG, JPEG, WebP };

// The options comfyui-api passes to sharp that have a libjpeg-turbo / libwebp equivalent.
struct ConvertOptions {
  OutputFormat format = OutputFormat::PNG;
  int quality = 80;               // JPEG and lossy WebP, 1..100
  // JPEG
  bool progressive = false;
  bool chroma_444 = false;        // "chromaSubsampling": "4:4:4" (default "4:2:0")
  bool optimize_coding = true;    // "optimizeCoding": optimised Huffman tables
  // WebP
  int alpha_quality = 100;        // "alphaQuality", 0..100
  bool lossless = false;
  bool near_lossless = false;     // "nearLossless" (libwebp near_lossless = quality)
  bool smart_subsample = false;   // "smartSubsample" (sharp YUV conversion)
  std::string preset = "default";  // "default"|"photo"|"picture"|"drawing"|"icon"|"text"
  int effort = 4;                 // "effort" 0..6 (libwebp method)
};

// A bad `convert_output` object; what() is the 400 message, location() e.g. "convert_output.options.quality".
class ConvertOptionsError : public std::runtime_error {
 public:
  ConvertOptionsError(const std::string& msg, std::string location)
      : std::runtime_error(msg), location_(std::move(location)) {}
  const std::string& location() const { return location_; }

 private:
  std::string location_;
};

// Parses {"format": "png"|"jpeg"|"jpg"|"webp", "options": {...}} with the option names of ConvertOptions'
// comments. Unknown options are ignored (sharp has more; comfyui-api ignores them too); known ones with a
// wrong type or out of range, or an unknown format, throw ConvertOptionsError.
ConvertOptions parse_convert_output(const graph::JsonValue& convert_output);

// Encodes 8-bit pixels (channels 1..4). JPEG drops alpha. Throws std::runtime_error on encoder failure.
std::vector<uint8_t> encode_image(const uint8_t* pixels, int width, int height, int channels,
                                  const ConvertOptions& options);

// Decodes an encoded image (e.g. a SaveImage PNG) and re-encodes it per `options`; a PNG asked as PNG is
// returned unchanged (its text chunks kept). Throws ImageError / std::runtime_error.
std::vector<uint8_t> convert_image(std::string_view encoded, const ConvertOptions& options);

// MIME type and file extension (no dot: "png", "jpeg", "webp") of a format.
const char* output_mime_type(OutputFormat format);
const char* output_file_extension(OutputFormat format);

}  // namespace vkdream::media
