// The outbound-address policy of reliability.md: public addresses only, unless a range is opened by
// EGRESS_ALLOW (a list of CIDRs, e.g. "127.0.0.1/32" for a loopback test server).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/ip_address.h"

namespace vkdream::net {

class EgressPolicy {
 public:
  EgressPolicy() = default;  // nothing extra allowed
  explicit EgressPolicy(std::vector<Cidr> allow) : allow_(std::move(allow)) {}

  // From the EGRESS_ALLOW environment variable (unset or empty: nothing extra). Throws
  // std::invalid_argument for a malformed list, so a bad deployment fails at start-up.
  static EgressPolicy from_env();

  // nullopt when `ip` may be connected to, else the reason (blocked_range's names).
  std::optional<std::string> check(const IpAddress& ip) const;
  bool allows(const IpAddress& ip) const { return !check(ip).has_value(); }

  const std::vector<Cidr>& allow_list() const { return allow_; }

 private:
  std::vector<Cidr> allow_;
};

}  // namespace vkdream::net
