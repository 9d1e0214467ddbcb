#include "media/data_uri.h"

#include <cctype>

#include "media/base64.h"

namespace vkdream::media {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<DataUri> parse_data_uri(std::string_view text) {
  if (text.size() < 5 || lower(text.substr(0, 5)) != "data:") return std::nullopt;
  const size_t comma = text.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  std::string_view meta = text.substr(5, comma - 5);
  DataUri uri;
  uri.payload = text.substr(comma + 1);
  // meta = [<mime>][;param=value]*[;base64]
  size_t start = 0;
  bool first = true;
  while (start <= meta.size()) {
    size_t semi = meta.find(';', start);
    std::string_view part = trim(meta.substr(start, semi == std::string_view::npos ? meta.size() - start : semi - start));
    if (first) {
      uri.mime_type = lower(part);
      first = false;
    } else if (lower(part) == "base64") {
      uri.is_base64 = true;
    }
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  return uri;
}

std::string make_data_uri(std::string_view mime_type, std::string_view bytes) {
  std::string out = "data:";
  out += mime_type;
  out += ";base64,";
  out += base64_encode(bytes);
  return out;
}

}  // namespace vkdream::media
