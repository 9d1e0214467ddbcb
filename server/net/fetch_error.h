// The error of an outbound fetch (resolution, policy, transfer, HTTP status).
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace vkdream::net {

// Why a fetch failed; the reason is a short stable word for metrics (vkdream_egress_blocked_total{reason}
// takes reason() when blocked() is true).
class FetchError : public std::runtime_error {
 public:
  enum class Kind { BadUrl, Blocked, Resolve, Connect, Timeout, TooLarge, HttpStatus, TooManyRedirects, Other };
  FetchError(Kind kind, std::string reason, const std::string& message, long status = 0)
      : std::runtime_error(message), kind_(kind), reason_(std::move(reason)), status_(status) {}
  Kind kind() const { return kind_; }
  bool blocked() const { return kind_ == Kind::Blocked; }
  const std::string& reason() const { return reason_; }  // e.g. "loopback", "timeout", "too_large"
  long status() const { return status_; }                // HTTP status for HttpStatus

 private:
  Kind kind_;
  std::string reason_;
  long status_;
};

}  // namespace vkdream::net
