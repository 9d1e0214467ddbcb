// Parsing and checking outbound URLs: http/https only, no user-info, a host, a port in range.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vkdream::net {

struct Url {
  std::string scheme;  // "http" or "https" (lowercased)
  std::string host;    // lowercased; IPv6 without brackets
  int port = 0;        // explicit or the scheme's default
  std::string target;  // path + query, at least "/"; the fragment is dropped
  std::string text;    // the whole URL as given (normalised by curl's parser)
};

// Parses an absolute URL; nullopt with `*error` ("unsupported scheme 'ftp'", "credentials in URL are not
// allowed", ...) when it is not an acceptable outbound URL.
std::optional<Url> parse_url(std::string_view text, std::string* error = nullptr);

// Resolves `location` (a Location header, absolute or relative) against `base`; nullopt with `*error`
// when the result is not acceptable.
std::optional<Url> resolve_url(const Url& base, std::string_view location, std::string* error = nullptr);

}  // namespace vkdream::net
