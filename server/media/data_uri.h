// data: URIs (RFC 2397) as clients send images: "data:image/png;base64,iVBOR...".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vkdream::media {

struct DataUri {
  std::string mime_type;    // lowercased, "" when absent (RFC default text/plain)
  bool is_base64 = false;   // ";base64" present
  std::string_view payload;  // the text after the first ',' (a view into the parsed string)
};

// Splits a data: URI (scheme case-insensitive); nullopt when `text` is not one.
std::optional<DataUri> parse_data_uri(std::string_view text);

// "data:<mime>;base64,<base64 of bytes>".
std::string make_data_uri(std::string_view mime_type, std::string_view bytes);

}  // namespace vkdream::media
