// One Pistache HTTP endpoint: turns each request into an HttpRequest and hands it, with a Responder that may
// answer later from any thread, to a dispatch function. Nothing else in the server includes Pistache.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "http_types.h"

namespace vkdream::server {

class PistacheListener {
 public:
  struct Options {
    std::string host = "::";
    int port = 0;  // 0: an ephemeral port
    int threads = 2;
    size_t max_request_bytes = 100u << 20;  // whole request; over it Pistache answers 413
    double header_timeout_s = 10, body_timeout_s = 30;
    double keepalive_timeout_s = 660;  // also bounds how long a response may take: keep above the request deadline
  };
  using Dispatch = std::function<void(HttpRequest&, const std::shared_ptr<Responder>&)>;

  PistacheListener(Options options, Dispatch dispatch);
  ~PistacheListener();
  PistacheListener(const PistacheListener&) = delete;
  PistacheListener& operator=(const PistacheListener&) = delete;

  void start();     // binds and serves on background threads; throws when the port cannot be bound
  int port() const;  // the bound port
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-decoding of a path or query component ('+' as space only when plus_is_space).
std::string percent_decode(const std::string& s, bool plus_is_space);

}  // namespace vkdream::server
