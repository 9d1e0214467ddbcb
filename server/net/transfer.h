// One HTTP exchange with libcurl, pinned to addresses that were already resolved and checked: shared by
// fetch_url (GET) and webhooks (POST). Internal to vkdream_net.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "net/egress_policy.h"
#include "net/fetch_error.h"
#include "net/ip_address.h"
#include "net/url.h"

namespace vkdream::net {

struct TransferRequest {
  const Url* url = nullptr;
  std::vector<IpAddress> addresses;  // from resolve_checked: the only addresses curl may connect to
  const EgressPolicy* policy = nullptr;
  const std::string* post_body = nullptr;  // POST when set, else GET
  std::vector<std::pair<std::string, std::string>> headers;
  long connect_timeout_ms = 5000;
  long total_timeout_ms = 30000;
  size_t max_body_bytes = 0;  // response body cap; 0 = discard the body
  std::string user_agent = "vkdream";
};

struct TransferResponse {
  long status = 0;
  std::string body;
  std::string content_type;
  std::string redirect_url;  // absolute Location of a 3xx answer ("" if none)
};

// Performs the exchange (never follows redirects). Throws FetchError: Blocked if curl tried an address
// outside `addresses` or one the policy refuses, Timeout, TooLarge, Connect, Other.
TransferResponse perform_transfer(const TransferRequest& request);

}  // namespace vkdream::net
