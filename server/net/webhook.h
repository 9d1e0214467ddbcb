// Webhook delivery (api.md "Webhooks"): Standard Webhooks signatures for webhook_v2, POST with retries and
// growing delays, a per-attempt timeout, redirects not followed, the egress policy applied to the target.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/egress_policy.h"

namespace vkdream::net {

// "v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>" where key is the base64 decoding of `secret`
// with an optional "whsec_" prefix. Throws std::invalid_argument if the secret is not valid base64.
std::string webhook_signature(std::string_view secret, std::string_view id, int64_t timestamp,
                              std::string_view body);

// The three Standard Webhooks headers: webhook-id, webhook-timestamp, webhook-signature.
std::vector<std::pair<std::string, std::string>> webhook_signature_headers(std::string_view secret,
                                                                           std::string_view id,
                                                                           int64_t timestamp,
                                                                           std::string_view body);

// HMAC-SHA256 of `data` with `key` (raw 32 bytes).
std::string hmac_sha256(std::string_view key, std::string_view data);

// ISO 8601 UTC with milliseconds, as JavaScript's toISOString(): "2026-11-29T11:13:02.123Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t);

struct WebhookOptions {
  EgressPolicy policy;
  int attempts = 3;                    // PROMPT_WEBHOOK_RETRIES
  long timeout_ms = 15000;             // per attempt, connect included
  long connect_timeout_ms = 5000;
  long first_delay_ms = 1000;          // delay before the 2nd attempt; doubles each time
  long max_delay_ms = 30000;
  std::string user_agent = "vkdream";
  // Called after each attempt with its outcome: "success", "http_error", "network_error", "blocked",
  // "gone" (410). For vkdream_webhook_attempts_total{outcome}.
  std::function<void(const std::string& outcome)> on_attempt;
  // Polled while waiting between attempts; true stops retrying (e.g. a second SIGTERM).
  std::function<bool()> cancelled;
};

struct WebhookRequest {
  std::string url;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type: application/json
};

struct WebhookResult {
  bool delivered = false;
  int attempts = 0;
  long last_status = 0;      // HTTP status of the last attempt, 0 if none came back
  std::string last_error;    // why the last attempt failed ("" when delivered)
};

// POSTs until a 2xx answer, `attempts` times at most; 410 stops at once; 3xx is a failure (not followed);
// a blocked or malformed URL is not retried. Blocks the calling thread (run it on a delivery thread).
WebhookResult deliver_webhook(const WebhookRequest& request, const WebhookOptions& options);

// One POST attempt (no retries): the HTTP status, or 0 with `*error` set for a network failure or a
// blocked/malformed URL (then `*blocked` is set when it was the policy).
long post_once(const WebhookRequest& request, const WebhookOptions& options, std::string* error, bool* blocked);

}  // namespace vkdream::net
