// Base64 (RFC 4648, standard alphabet) for images in requests and responses. Decoding is strict: only the
// alphabet, '=' padding at the end (optional, but correct when present) and ASCII whitespace (line breaks
// from `base64` wrapping) are accepted; non-zero leftover bits are rejected. The size cap is checked from
// the text length before anything is allocated.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vkdream::media {

// Standard base64 with '=' padding, no line breaks.
std::string base64_encode(std::string_view bytes);
std::string base64_encode(const void* data, size_t size);

// Decodes `text`; nullopt with `*error` set when it is not valid base64 or would decode to more than
// `max_decoded_bytes`.
std::optional<std::string> base64_decode(std::string_view text, size_t max_decoded_bytes,
                                         std::string* error = nullptr);

// Upper bound of the decoded size of `text` (cheap; used for the size cap before decoding).
size_t base64_decoded_size_bound(std::string_view text);

}  // namespace vkdream::media
