#include "media/jpeg_decode.h"

#include <csetjmp>
#include <cstdio>
#include <vector>

#include <jerror.h>
#include <jpeglib.h>

namespace vkdream::media {
namespace {

constexpr int kMaxScans = 500;  // progressive JPEGs with endless scans are a CPU bomb (libjpeg-turbo advice)

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated = false;
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings are silent; a premature end of data is remembered (libjpeg would fill the rest with gray).
void on_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) err->truncated = true;
}

void on_progress(j_common_ptr cinfo) {
  if (cinfo->is_decompressor) {
    auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
    if (d->input_scan_number > kMaxScans) {
      auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
      std::snprintf(err->message, sizeof err->message, "more than %d progressive scans", kMaxScans);
      std::longjmp(err->jump, 1);
    }
  }
}

// Points `cinfo` at `bytes` with our error, message and progress handlers. The caller owns the setjmp (it
// must be in a frame that is still alive when libjpeg jumps).
void attach(jpeg_decompress_struct& cinfo, ErrorManager& err, jpeg_progress_mgr& progress, std::string_view bytes) {
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  jpeg_create_decompress(&cinfo);
  progress.progress_monitor = on_progress;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<unsigned long>(bytes.size()));
}

}  // namespace

ImageInfo jpeg_probe(std::string_view bytes) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  jpeg_progress_mgr progress{};
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw ImageError(std::string("cannot read the jpeg image header (") + err.message + ")");
  }
  attach(cinfo, err, progress, bytes);
  jpeg_read_header(&cinfo, TRUE);
  ImageInfo info;
  info.type = ImageType::JPEG;
  info.width = static_cast<int>(cinfo.image_width);
  info.height = static_cast<int>(cinfo.image_height);
  info.channels = cinfo.num_components == 1 ? 1 : 3;
  jpeg_destroy_decompress(&cinfo);
  return info;
}

DecodedImage jpeg_decode(std::string_view bytes) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  jpeg_progress_mgr progress{};
  // Allocated before setjmp so a longjmp does not skip its destructor.
  DecodedImage img;
  std::vector<uint8_t> cmyk_row;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw ImageError(std::string("cannot decode the jpeg image (") + err.message + ")");
  }
  attach(cinfo, err, progress, bytes);
  jpeg_read_header(&cinfo, TRUE);
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  const bool gray = cinfo.num_components == 1;
  cinfo.out_color_space = gray ? JCS_GRAYSCALE : cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  img.width = static_cast<int>(cinfo.output_width);
  img.height = static_cast<int>(cinfo.output_height);
  img.channels = gray ? 1 : 3;
  img.pixels.resize(size_t(img.width) * size_t(img.height) * size_t(img.channels));
  if (cmyk) cmyk_row.resize(size_t(img.width) * 4);
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t* dst = img.pixels.data() + size_t(cinfo.output_scanline) * size_t(img.width) * size_t(img.channels);
    JSAMPROW row = cmyk ? cmyk_row.data() : dst;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;
    if (cmyk) {
      // Adobe writes inverted CMYK: value = 255 - ink, so RGB = c * k / 255.
      for (int x = 0; x < img.width; ++x) {
        const uint8_t* s = &cmyk_row[size_t(x) * 4];
        for (int c = 0; c < 3; ++c) dst[size_t(x) * 3 + c] = uint8_t((s[c] * s[3] + 127) / 255);
      }
    }
  }
  if (err.truncated || cinfo.output_scanline < cinfo.output_height) {
    jpeg_destroy_decompress(&cinfo);
    throw ImageError("cannot decode the jpeg image (truncated data)");
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return img;
}

}  // namespace vkdream::media
