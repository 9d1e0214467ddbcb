#include "net/fetch.h"

#include <chrono>

#include "media/image_type.h"
#include "net/resolve.h"
#include "net/transfer.h"

namespace vkdream::net {

FetchResult fetch_url(const std::string& text, const FetchOptions& options) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(options.total_timeout_ms);
  std::string error;
  auto url = parse_url(text, &error);
  if (!url) throw FetchError(FetchError::Kind::BadUrl, "bad_url", error);
  FetchResult result;
  for (;;) {
    const std::vector<IpAddress> addrs = resolve_checked(url->host, options.policy);
    const long remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (remaining <= 0) throw FetchError(FetchError::Kind::Timeout, "timeout", "timed out fetching " + url->host);
    TransferRequest req;
    req.url = &*url;
    req.addresses = addrs;
    req.policy = &options.policy;
    req.connect_timeout_ms = options.connect_timeout_ms;
    req.total_timeout_ms = remaining;
    req.max_body_bytes = options.max_bytes;
    req.user_agent = options.user_agent;
    TransferResponse resp = perform_transfer(req);
    if (resp.status >= 300 && resp.status < 400 && !resp.redirect_url.empty()) {
      if (result.redirects >= options.max_redirects)
        throw FetchError(FetchError::Kind::TooManyRedirects, "redirects",
                         "more than " + std::to_string(options.max_redirects) + " redirects");
      auto next = resolve_url(*url, resp.redirect_url, &error);
      if (!next) throw FetchError(FetchError::Kind::BadUrl, "bad_url", "redirect to an unacceptable URL: " + error);
      url = std::move(next);
      ++result.redirects;
      continue;
    }
    if (resp.status < 200 || resp.status >= 300)
      throw FetchError(FetchError::Kind::HttpStatus, "http_status",
                       "HTTP " + std::to_string(resp.status) + " from " + url->host, resp.status);
    result.status = resp.status;
    result.body = std::move(resp.body);
    result.content_type = std::move(resp.content_type);
    result.final_url = url->text;
    return result;
  }
}

FetchResult fetch_image(const std::string& url, const FetchOptions& options) {
  FetchResult r = fetch_url(url, options);
  if (media::sniff_image_type(r.body) == media::ImageType::Unknown)
    throw FetchError(FetchError::Kind::Other, "not_image", "the URL did not return a PNG, JPEG, WebP, GIF or BMP image");
  return r;
}

}  // namespace vkdream::net
