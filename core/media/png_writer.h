// PNG encoding with text chunks, as ComfyUI's SaveImage writes them through PIL: "prompt" holding
// json.dumps(prompt), then one chunk per key of extra_pnginfo (e.g. "workflow") holding json.dumps(value). Depends on stb_image_write only, so node plugins can use it too: stb has no text chunk
// API, so the chunks are spliced in after IHDR with their own CRC-32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vkdream::media {

struct PngTextChunk {
  std::string keyword;  // 1..79 Latin-1 characters, no NUL (PNG spec); e.g. "prompt"
  std::string text;     // written as tEXt when it is ASCII, else as uncompressed iTXt (UTF-8)
};

// Encodes 8-bit pixels (row-major, `channels` 1..4 interleaved) as PNG with `texts` inserted after IHDR.
// Throws std::invalid_argument for bad sizes or keywords, std::runtime_error if stb fails.
std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels,
                                const std::vector<PngTextChunk>& texts = {});

// encode_png to a file (written whole, then renamed into place). Throws std::runtime_error on I/O errors.
void write_png_file(const std::string& path, const uint8_t* pixels, int width, int height, int channels,
                    const std::vector<PngTextChunk>& texts = {});

// Inserts text chunks after the IHDR chunk of an existing PNG. Throws std::invalid_argument if `png`
// does not start with a PNG signature and IHDR.
std::vector<uint8_t> png_insert_text_chunks(const std::vector<uint8_t>& png, const std::vector<PngTextChunk>& texts);

// CRC-32 (ISO-HDLC, as PNG and zlib use) of `size` bytes, continuing from `crc` (0 to start).
uint32_t png_crc32(const void* data, size_t size, uint32_t crc = 0);

}  // namespace vkdream::media
