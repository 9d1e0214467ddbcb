// Delivers webhooks on its own thread (never the executor's): webhook_v2 bodies signed with Standard Webhooks
// when a secret is set, legacy ones unsigned, each with net::deliver_webhook's retries.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/egress_policy.h"

namespace vkdream::server {

class Metrics;

class WebhookDispatcher {
 public:
  struct Options {
    std::string secret;  // WEBHOOK_SECRET ("" = unsigned)
    int attempts = 3;
    net::EgressPolicy policy;
    long first_delay_ms = 1000;
  };
  WebhookDispatcher(Options options, Metrics& metrics);
  ~WebhookDispatcher();  // stops retrying; undelivered webhooks are lost (documented in reliability.md)

  // Queues one POST; `sign` adds the webhook-id/-timestamp/-signature headers (id = the request id).
  void post(const std::string& url, const std::string& id, std::string body, bool sign);

  // Waits until everything queued was delivered or given up on, at most `timeout_ms`.
  bool flush(long timeout_ms);

  size_t delivered() const { return delivered_.load(); }
  size_t failed() const { return failed_.load(); }

 private:
  struct Item {
    std::string url, id, body;
    bool sign;
  };
  void loop();

  Options options_;
  Metrics& metrics_;
  std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<Item> items_;
  bool busy_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> delivered_{0}, failed_{0};
  std::thread thread_;
};

}  // namespace vkdream::server
