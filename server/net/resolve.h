// Resolving a URL host to the addresses that will be connected to, with the egress policy applied to each.
#pragma once

#include <string>
#include <vector>

#include "net/egress_policy.h"
#include "net/fetch_error.h"
#include "net/ip_address.h"

namespace vkdream::net {

// IP literals (any spelling) parse directly; names go through getaddrinfo once. Throws FetchError
// (Resolve when nothing resolves, Blocked naming the first blocked address when ANY address is blocked:
// a name that resolves to a mix is refused as a whole).
std::vector<IpAddress> resolve_checked(const std::string& host, const EgressPolicy& policy);

}  // namespace vkdream::net
