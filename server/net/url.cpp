#include "net/url.h"

#include <curl/curl.h>

#include <cctype>
#include <memory>

namespace vkdream::net {
namespace {

constexpr size_t kMaxUrlLength = 8192;

struct UrlHandleDeleter {
  void operator()(CURLU* h) const { curl_url_cleanup(h); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlHandleDeleter>;

struct CurlString {
  char* p = nullptr;
  ~CurlString() { curl_free(p); }
};

bool fail(std::string* error, std::string msg) {
  if (error) *error = std::move(msg);
  return false;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads the parts of a parsed handle into `out`, refusing what an outbound request must not have.
bool extract(CURLU* h, Url& out, std::string* error) {
  CurlString scheme, host, port, path, query, user, password, zone, full;
  if (curl_url_get(h, CURLUPART_SCHEME, &scheme.p, 0) != CURLUE_OK) return fail(error, "URL has no scheme");
  out.scheme = lower(scheme.p);
  if (out.scheme != "http" && out.scheme != "https")
    return fail(error, "unsupported URL scheme '" + out.scheme + "' (only http and https)");
  if (curl_url_get(h, CURLUPART_USER, &user.p, 0) == CURLUE_OK ||
      curl_url_get(h, CURLUPART_PASSWORD, &password.p, 0) == CURLUE_OK)
    return fail(error, "credentials in the URL are not allowed");
  if (curl_url_get(h, CURLUPART_HOST, &host.p, 0) != CURLUE_OK || !host.p[0]) return fail(error, "URL has no host");
  out.host = lower(host.p);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.find('%') != std::string::npos || curl_url_get(h, CURLUPART_ZONEID, &zone.p, 0) == CURLUE_OK)
    return fail(error, "IPv6 zone ids are not allowed in URLs");
  if (curl_url_get(h, CURLUPART_PORT, &port.p, CURLU_DEFAULT_PORT) != CURLUE_OK) return fail(error, "URL has no port");
  out.port = std::atoi(port.p);
  if (out.port <= 0 || out.port > 65535) return fail(error, "URL port out of range");
  curl_url_get(h, CURLUPART_PATH, &path.p, 0);
  out.target = path.p && path.p[0] ? path.p : "/";
  if (curl_url_get(h, CURLUPART_QUERY, &query.p, 0) == CURLUE_OK && query.p) out.target += std::string("?") + query.p;
  curl_url_set(h, CURLUPART_FRAGMENT, nullptr, 0);
  if (curl_url_get(h, CURLUPART_URL, &full.p, 0) != CURLUE_OK) return fail(error, "URL cannot be normalised");
  out.text = full.p;
  return true;
}

std::optional<Url> parse_with(CURLU* h, std::string_view text, std::string* error) {
  if (text.size() > kMaxUrlLength) {
    fail(error, "URL longer than " + std::to_string(kMaxUrlLength) + " characters");
    return std::nullopt;
  }
  for (char c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      fail(error, "URL contains spaces or control characters");
      return std::nullopt;
    }
  const std::string s(text);
  // CURLU_NON_SUPPORT_SCHEME so an "ftp:" URL gets our clear message rather than curl's.
  const CURLUcode rc = curl_url_set(h, CURLUPART_URL, s.c_str(), CURLU_NON_SUPPORT_SCHEME);
  if (rc != CURLUE_OK) {
    fail(error, std::string("invalid URL (") + curl_url_strerror(rc) + ")");
    return std::nullopt;
  }
  Url out;
  if (!extract(h, out, error)) return std::nullopt;
  return out;
}

}  // namespace

std::optional<Url> parse_url(std::string_view text, std::string* error) {
  UrlHandle h(curl_url());
  if (!h) {
    fail(error, "out of memory");
    return std::nullopt;
  }
  // Only absolute URLs: curl would otherwise guess "http://" for a bare host name.
  const size_t colon = text.find("://");
  if (colon == std::string_view::npos) {
    fail(error, "not an absolute URL");
    return std::nullopt;
  }
  return parse_with(h.get(), text, error);
}

std::optional<Url> resolve_url(const Url& base, std::string_view location, std::string* error) {
  UrlHandle h(curl_url());
  if (!h || curl_url_set(h.get(), CURLUPART_URL, base.text.c_str(), 0) != CURLUE_OK) {
    fail(error, "invalid base URL");
    return std::nullopt;
  }
  return parse_with(h.get(), location, error);
}

}  // namespace vkdream::net
