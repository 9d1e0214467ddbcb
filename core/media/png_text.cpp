#include "media/png_text.h"

#include <cstdint>
#include <cstring>

#include "media/png_writer.h"

namespace vkdream::media {

std::vector<std::pair<std::string, std::string>> read_png_text_chunks(std::string_view png) {
  std::vector<std::pair<std::string, std::string>> out;
  if (png.size() < 8 || std::memcmp(png.data(), "\x89PNG\r\n\x1a\n", 8) != 0) return out;
  const auto* p = reinterpret_cast<const uint8_t*>(png.data());
  size_t at = 8;
  while (at + 12 <= png.size()) {
    const uint32_t len = (uint32_t(p[at]) << 24) | (uint32_t(p[at + 1]) << 16) | (uint32_t(p[at + 2]) << 8) | p[at + 3];
    if (len > png.size() - at - 12) break;
    const std::string_view type = png.substr(at + 4, 4);
    const std::string_view data = png.substr(at + 8, len);
    const size_t crc_at = at + 8 + len;
    const uint32_t crc = (uint32_t(p[crc_at]) << 24) | (uint32_t(p[crc_at + 1]) << 16) | (uint32_t(p[crc_at + 2]) << 8) |
                         p[crc_at + 3];
    if (png_crc32(p + at + 4, 4 + len) != crc) break;
    const size_t nul = data.find('\0');
    if (type == "tEXt" && nul != std::string_view::npos) {
      out.emplace_back(std::string(data.substr(0, nul)), std::string(data.substr(nul + 1)));
    } else if (type == "iTXt" && nul != std::string_view::npos && nul + 2 < data.size() && data[nul + 1] == 0) {
      // keyword\0 flag method language\0 translated\0 text; compressed iTXt is skipped.
      const size_t lang_end = data.find('\0', nul + 3);
      const size_t trans_end = lang_end == std::string_view::npos ? lang_end : data.find('\0', lang_end + 1);
      if (trans_end != std::string_view::npos)
        out.emplace_back(std::string(data.substr(0, nul)), std::string(data.substr(trans_end + 1)));
    }
    if (type == "IEND") break;
    at = crc_at + 4;
  }
  return out;
}

}  // namespace vkdream::media
