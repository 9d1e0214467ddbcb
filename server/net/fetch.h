// Egress-checked HTTP GET for image URLs (reliability.md "Outbound requests"): the host is resolved once,
// every address checked against the policy, and curl pinned to that address (CURLOPT_RESOLVE) and checked
// again at connect time (CURLOPT_OPENSOCKETFUNCTION), so a DNS answer cannot change between the check and
// the connection. Size capped while streaming; connect and total timeouts; redirects followed by hand, at
// most `max_redirects`, each re-checked. No proxies from the environment.
#pragma once

#include <cstddef>
#include <string>

#include "net/egress_policy.h"
#include "net/fetch_error.h"
#include "net/url.h"

namespace vkdream::net {

struct FetchOptions {
  EgressPolicy policy;
  size_t max_bytes = 16u << 20;   // body cap (= the input image cap)
  long connect_timeout_ms = 5000;
  long total_timeout_ms = 30000;  // for the whole fetch, redirects included
  int max_redirects = 3;
  std::string user_agent = "vkdream";
};

struct FetchResult {
  long status = 0;            // final HTTP status (2xx when fetch_url returns)
  std::string body;
  std::string content_type;   // as the server sent it (informational only)
  std::string final_url;      // after redirects
  int redirects = 0;
};

// GETs `url`; returns only for a 2xx final answer. Throws FetchError with a message fit for a 400 answer
// ("address 127.0.0.1 of host 'x' is not allowed (loopback)", "response larger than 16777216 bytes",
// "HTTP 404 from x", ...). The name lookup (getaddrinfo) is not bounded by the timeouts.
FetchResult fetch_url(const std::string& url, const FetchOptions& options);

// fetch_url, then checks that the body is a PNG/JPEG/WebP/GIF/BMP image by its magic bytes (FetchError
// Other, reason "not_image", otherwise).
FetchResult fetch_image(const std::string& url, const FetchOptions& options);

}  // namespace vkdream::net
