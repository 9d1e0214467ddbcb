#include "net/egress_policy.h"

#include <cstdlib>

namespace vkdream::net {

EgressPolicy EgressPolicy::from_env() {
  const char* v = std::getenv("EGRESS_ALLOW");
  return EgressPolicy(v ? parse_cidr_list(v) : std::vector<Cidr>{});
}

std::optional<std::string> EgressPolicy::check(const IpAddress& ip) const {
  auto reason = blocked_range(ip);
  if (!reason) return std::nullopt;
  for (const Cidr& c : allow_)
    if (c.contains(ip)) return std::nullopt;
  return reason;
}

}  // namespace vkdream::net
