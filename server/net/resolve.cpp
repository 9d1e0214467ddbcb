#include "net/resolve.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>

namespace vkdream::net {

std::vector<IpAddress> resolve_checked(const std::string& host, const EgressPolicy& policy) {
  std::vector<IpAddress> addrs;
  if (auto literal = parse_ip_literal(host)) {
    addrs.push_back(*literal);
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0)
      throw FetchError(FetchError::Kind::Resolve, "resolve", "cannot resolve host '" + host + "' (" + gai_strerror(rc) + ")");
    for (addrinfo* ai = res; ai; ai = ai->ai_next)
      if (auto ip = ip_from_sockaddr(ai->ai_addr); ip && std::find(addrs.begin(), addrs.end(), *ip) == addrs.end())
        addrs.push_back(*ip);
    freeaddrinfo(res);
    if (addrs.empty()) throw FetchError(FetchError::Kind::Resolve, "resolve", "host '" + host + "' has no address");
  }
  for (const IpAddress& ip : addrs)
    if (auto reason = policy.check(ip))
      throw FetchError(FetchError::Kind::Blocked, *reason,
                       "address " + ip.to_string() + " of host '" + host + "' is not allowed (" + *reason + ")");
  return addrs;
}

}  // namespace vkdream::net
