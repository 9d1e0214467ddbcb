#include "media/image_encode.h"

// jpeglib.h needs FILE and size_t declared first.
#include <cstdio>
#include <cstring>
#include <csetjmp>

#include <jpeglib.h>
#include <webp/encode.h>

#include "media/png_writer.h"

namespace vkdream::media {
namespace {

using graph::JsonValue;

int get_int(const JsonValue& options, const char* key, int lo, int hi, int fallback) {
  const JsonValue* v = options.find(key);
  if (!v || v->is_null()) return fallback;
  const std::string loc = std::string("convert_output.options.") + key;
  double d = 0;
  if (v->is_int()) d = static_cast<double>(v->as_int());
  else if (v->is_float()) d = v->as_float();
  else throw ConvertOptionsError(loc + " must be a number", loc);
  if (!(d >= lo && d <= hi) || d != static_cast<double>(static_cast<long long>(d)))
    throw ConvertOptionsError(loc + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi), loc);
  return static_cast<int>(d);
}

bool get_bool(const JsonValue& options, const char* key, bool fallback) {
  const JsonValue* v = options.find(key);
  if (!v || v->is_null()) return fallback;
  const std::string loc = std::string("convert_output.options.") + key;
  if (!v->is_bool()) throw ConvertOptionsError(loc + " must be true or false", loc);
  return v->as_bool();
}

std::string get_enum(const JsonValue& options, const char* key, std::initializer_list<const char*> allowed,
                     const std::string& fallback) {
  const JsonValue* v = options.find(key);
  if (!v || v->is_null()) return fallback;
  const std::string loc = std::string("convert_output.options.") + key;
  std::string list;
  for (const char* a : allowed) {
    if (v->is_string() && v->as_string() == a) return a;
    list += list.empty() ? "" : ", ";
    list += a;
  }
  throw ConvertOptionsError(loc + " must be one of: " + list, loc);
}

// libjpeg reports fatal errors through a callback that must not return: jump back out.
struct JpegErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

std::vector<uint8_t> encode_jpeg(const uint8_t* pixels, int width, int height, int channels, const ConvertOptions& o) {
  // JPEG has no alpha: 2 -> gray, 4 -> RGB (alpha dropped, as sharp does without a background).
  const int out_channels = channels <= 2 ? 1 : 3;
  std::vector<uint8_t> row(size_t(width) * size_t(out_channels));
  jpeg_compress_struct cinfo;
  JpegErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = jpeg_error_exit;
  unsigned char* mem = nullptr;
  unsigned long mem_size = 0;
  // `mem` is only written by libjpeg through its address, so it is still valid after a longjmp.
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::free(mem);
    throw std::runtime_error(std::string("JPEG encoding failed: ") + err.message);
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &mem, &mem_size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = out_channels;
  cinfo.in_color_space = out_channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, o.quality, TRUE);
  cinfo.optimize_coding = o.optimize_coding ? TRUE : FALSE;
  if (out_channels == 3 && o.chroma_444) {
    for (int c = 0; c < 3; ++c) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  }
  if (o.progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    const uint8_t* src = pixels + size_t(cinfo.next_scanline) * size_t(width) * size_t(channels);
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < out_channels; ++c) row[size_t(x) * out_channels + c] = src[size_t(x) * channels + c];
    JSAMPROW rows[1] = {row.data()};
    jpeg_write_scanlines(&cinfo, rows, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> out(mem, mem + mem_size);
  std::free(mem);
  return out;
}

WebPPreset webp_preset(const std::string& name) {
  if (name == "photo") return WEBP_PRESET_PHOTO;
  if (name == "picture") return WEBP_PRESET_PICTURE;
  if (name == "drawing") return WEBP_PRESET_DRAWING;
  if (name == "icon") return WEBP_PRESET_ICON;
  if (name == "text") return WEBP_PRESET_TEXT;
  return WEBP_PRESET_DEFAULT;
}

int collect_webp(const uint8_t* data, size_t size, const WebPPicture* pic) {
  auto* out = static_cast<std::vector<uint8_t>*>(pic->custom_ptr);
  out->insert(out->end(), data, data + size);
  return 1;
}

std::vector<uint8_t> encode_webp(const uint8_t* pixels, int width, int height, int channels, const ConvertOptions& o) {
  if (width > WEBP_MAX_DIMENSION || height > WEBP_MAX_DIMENSION)
    throw std::runtime_error("WebP images are at most 16383 pixels a side");
  // libwebp imports RGB or RGBA: expand gray first.
  std::vector<uint8_t> expanded;
  const uint8_t* src = pixels;
  int src_channels = channels;
  if (channels <= 2) {
    src_channels = channels == 2 ? 4 : 3;
    expanded.resize(size_t(width) * size_t(height) * size_t(src_channels));
    for (size_t i = 0, n = size_t(width) * size_t(height); i < n; ++i) {
      uint8_t* d = expanded.data() + i * size_t(src_channels);
      d[0] = d[1] = d[2] = pixels[i * size_t(channels)];
      if (src_channels == 4) d[3] = pixels[i * 2 + 1];
    }
    src = expanded.data();
  }
  WebPConfig config;
  if (!WebPConfigPreset(&config, webp_preset(o.preset), static_cast<float>(o.quality)))
    throw std::runtime_error("WebP encoder version mismatch");
  config.lossless = o.lossless ? 1 : 0;
  config.exact = config.lossless;  // lossless keeps the colour under transparent pixels too
  config.method = o.effort;
  config.alpha_quality = o.alpha_quality;
  config.use_sharp_yuv = o.smart_subsample ? 1 : 0;
  if (o.near_lossless) {
    config.lossless = 1;
    config.near_lossless = o.quality;
  }
  if (!WebPValidateConfig(&config)) throw std::runtime_error("invalid WebP options");
  WebPPicture pic;
  if (!WebPPictureInit(&pic)) throw std::runtime_error("WebP encoder version mismatch");
  pic.use_argb = config.lossless ? 1 : 0;
  pic.width = width;
  pic.height = height;
  std::vector<uint8_t> out;
  pic.writer = collect_webp;
  pic.custom_ptr = &out;
  const int stride = width * src_channels;
  const int imported = src_channels == 4 ? WebPPictureImportRGBA(&pic, src, stride) : WebPPictureImportRGB(&pic, src, stride);
  if (!imported) {
    WebPPictureFree(&pic);
    throw std::runtime_error("WebP encoding failed: out of memory");
  }
  const int ok = WebPEncode(&config, &pic);
  const int code = pic.error_code;
  WebPPictureFree(&pic);
  if (!ok) throw std::runtime_error("WebP encoding failed (error " + std::to_string(code) + ")");
  return out;
}

}  // namespace

ConvertOptions parse_convert_output(const JsonValue& convert_output) {
  if (!convert_output.is_object()) throw ConvertOptionsError("convert_output must be an object", "convert_output");
  ConvertOptions o;
  const JsonValue* format = convert_output.find("format");
  if (!format || !format->is_string())
    throw ConvertOptionsError("convert_output.format must be one of: png, jpeg, jpg, webp", "convert_output.format");
  const std::string& f = format->as_string();
  if (f == "png") o.format = OutputFormat::PNG;
  else if (f == "jpeg" || f == "jpg") o.format = OutputFormat::JPEG;
  else if (f == "webp") o.format = OutputFormat::WebP;
  else throw ConvertOptionsError("convert_output.format must be one of: png, jpeg, jpg, webp (got '" + f + "')",
                                 "convert_output.format");
  const JsonValue* options = convert_output.find("options");
  if (!options || options->is_null()) return o;
  if (!options->is_object()) throw ConvertOptionsError("convert_output.options must be an object", "convert_output.options");
  o.quality = get_int(*options, "quality", 1, 100, o.quality);
  o.progressive = get_bool(*options, "progressive", o.progressive);
  o.chroma_444 = get_enum(*options, "chromaSubsampling", {"4:2:0", "4:4:4"}, "4:2:0") == "4:4:4";
  o.optimize_coding = get_bool(*options, "optimizeCoding", o.optimize_coding);
  o.alpha_quality = get_int(*options, "alphaQuality", 0, 100, o.alpha_quality);
  o.lossless = get_bool(*options, "lossless", o.lossless);
  o.near_lossless = get_bool(*options, "nearLossless", o.near_lossless);
  o.smart_subsample = get_bool(*options, "smartSubsample", o.smart_subsample);
  o.preset = get_enum(*options, "preset", {"default", "photo", "picture", "drawing", "icon", "text"}, o.preset);
  o.effort = get_int(*options, "effort", 0, 6, o.effort);
  return o;
}

std::vector<uint8_t> encode_image(const uint8_t* pixels, int width, int height, int channels,
                                  const ConvertOptions& options) {
  if (!pixels || width <= 0 || height <= 0 || channels < 1 || channels > 4)
    throw std::invalid_argument("encode_image: bad image");
  switch (options.format) {
    case OutputFormat::PNG: return encode_png(pixels, width, height, channels);
    case OutputFormat::JPEG: return encode_jpeg(pixels, width, height, channels, options);
    case OutputFormat::WebP: return encode_webp(pixels, width, height, channels, options);
  }
  throw std::invalid_argument("encode_image: unknown format");
}

std::vector<uint8_t> convert_image(std::string_view encoded, const ConvertOptions& options) {
  if (options.format == OutputFormat::PNG && sniff_image_type(encoded) == ImageType::PNG)
    return std::vector<uint8_t>(encoded.begin(), encoded.end());
  // Our own outputs: no input-size limits beyond what the encoders take.
  ImageLimits limits;
  limits.max_encoded_bytes = size_t(1) << 31;
  limits.max_pixels = uint64_t(1) << 28;
  limits.max_side = 1 << 15;
  const DecodedImage img = decode_image(encoded, 0, limits);
  return encode_image(img.pixels.data(), img.width, img.height, img.channels, options);
}

const char* output_mime_type(OutputFormat format) {
  switch (format) {
    case OutputFormat::JPEG: return "image/jpeg";
    case OutputFormat::WebP: return "image/webp";
    default: return "image/png";
  }
}

const char* output_file_extension(OutputFormat format) {
  switch (format) {
    case OutputFormat::JPEG: return "jpeg";
    case OutputFormat::WebP: return "webp";
    default: return "png";
  }
}

}  // namespace vkdream::media
