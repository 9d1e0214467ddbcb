#include "net/webhook.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <thread>

#include "media/base64.h"
#include "net/resolve.h"
#include "net/transfer.h"
#include "net/url.h"

namespace vkdream::net {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &len))
    throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string webhook_signature(std::string_view secret, std::string_view id, int64_t timestamp, std::string_view body) {
  if (secret.substr(0, 6) == "whsec_") secret.remove_prefix(6);
  std::string error;
  auto key = media::base64_decode(secret, 1024, &error);
  if (!key) throw std::invalid_argument("WEBHOOK_SECRET is not valid base64 (after an optional whsec_ prefix): " + error);
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  return "v1," + media::base64_encode(hmac_sha256(*key, content));
}

std::vector<std::pair<std::string, std::string>> webhook_signature_headers(std::string_view secret, std::string_view id,
                                                                           int64_t timestamp, std::string_view body) {
  return {{"webhook-id", std::string(id)},
          {"webhook-timestamp", std::to_string(timestamp)},
          {"webhook-signature", webhook_signature(secret, id, timestamp, body)}};
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  const int millis = static_cast<int>(((ms % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

long post_once(const WebhookRequest& request, const WebhookOptions& options, std::string* error, bool* blocked) {
  if (blocked) *blocked = false;
  std::string why;
  auto url = parse_url(request.url, &why);
  if (!url) {
    if (error) *error = "invalid webhook URL: " + why;
    if (blocked) *blocked = true;  // not retryable either
    return 0;
  }
  try {
    TransferRequest req;
    req.url = &*url;
    req.addresses = resolve_checked(url->host, options.policy);
    req.policy = &options.policy;
    req.post_body = &request.body;
    req.headers.emplace_back("Content-Type", "application/json");
    for (const auto& h : request.headers) req.headers.push_back(h);
    req.connect_timeout_ms = options.connect_timeout_ms;
    req.total_timeout_ms = options.timeout_ms;
    req.max_body_bytes = 0;  // the receiver's answer is not needed
    req.user_agent = options.user_agent;
    return perform_transfer(req).status;
  } catch (const FetchError& e) {
    if (error) *error = e.what();
    if (blocked) *blocked = e.blocked();
    return 0;
  }
}

WebhookResult deliver_webhook(const WebhookRequest& request, const WebhookOptions& options) {
  WebhookResult result;
  long delay = options.first_delay_ms;
  const int attempts = std::max(1, options.attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      // Sleep in small slices so cancellation is noticed quickly.
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
      while (std::chrono::steady_clock::now() < until) {
        if (options.cancelled && options.cancelled()) {
          result.last_error = "cancelled: " + result.last_error;
          return result;
        }
        std::this_thread::sleep_for(std::min(std::chrono::milliseconds(50),
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()) +
                std::chrono::milliseconds(1)));
      }
      delay = std::min(delay * 2, options.max_delay_ms);
    }
    std::string error;
    bool blocked = false;
    const long status = post_once(request, options, &error, &blocked);
    result.attempts = attempt;
    result.last_status = status;
    std::string outcome;
    if (status >= 200 && status < 300) {
      result.delivered = true;
      result.last_error.clear();
      outcome = "success";
    } else if (status == 410) {
      result.last_error = "HTTP 410 Gone";
      outcome = "gone";
    } else if (status != 0) {
      result.last_error = "HTTP " + std::to_string(status);
      outcome = "http_error";
    } else {
      result.last_error = error;
      outcome = blocked ? "blocked" : "network_error";
    }
    if (options.on_attempt) options.on_attempt(outcome);
    if (result.delivered || status == 410 || blocked) return result;
  }
  return result;
}

}  // namespace vkdream::net
