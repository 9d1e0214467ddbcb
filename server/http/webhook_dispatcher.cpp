#include "webhook_dispatcher.h"

#include <chrono>
#include <cstdio>

#include "metrics.h"
#include "net/webhook.h"

namespace vkdream::server {

WebhookDispatcher::WebhookDispatcher(Options options, Metrics& metrics)
    : options_(std::move(options)), metrics_(metrics), thread_([this] { loop(); }) {}

WebhookDispatcher::~WebhookDispatcher() {
  stop_.store(true);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WebhookDispatcher::post(const std::string& url, const std::string& id, std::string body, bool sign) {
  std::lock_guard<std::mutex> lock(mu_);
  items_.push_back({url, id, std::move(body), sign});
  cv_.notify_all();
}

bool WebhookDispatcher::flush(long timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return items_.empty() && !busy_; });
}

void WebhookDispatcher::loop() {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      busy_ = false;
      idle_cv_.notify_all();
      cv_.wait(lock, [&] { return stop_.load() || !items_.empty(); });
      if (stop_.load()) return;
      item = std::move(items_.front());
      items_.pop_front();
      busy_ = true;
    }
    net::WebhookRequest req;
    req.url = item.url;
    req.body = std::move(item.body);
    net::WebhookOptions opts;
    opts.policy = options_.policy;
    opts.attempts = options_.attempts;
    opts.first_delay_ms = options_.first_delay_ms;
    opts.on_attempt = [this](const std::string& outcome) {
      metrics_.webhook_attempt(outcome);
      if (outcome == "blocked") metrics_.egress_blocked("webhook");
    };
    opts.cancelled = [this] { return stop_.load(); };
    net::WebhookResult result;
    try {
      if (item.sign && !options_.secret.empty()) {
        int64_t ts = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
        req.headers = net::webhook_signature_headers(options_.secret, item.id, ts, req.body);
      }
      result = net::deliver_webhook(req, opts);
    } catch (const std::exception& e) {
      result.last_error = e.what();
    }
    if (result.delivered) {
      delivered_.fetch_add(1);
    } else {
      failed_.fetch_add(1);
      // The one log line for a webhook given up on; the URL is the client's, the body is never logged.
      std::fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"webhook delivery failed\",\"id\":\"%s\",\"attempts\":%d,"
                           "\"status\":%ld}\n", item.id.c_str(), result.attempts, result.last_status);
    }
  }
}

}  // namespace vkdream::server
