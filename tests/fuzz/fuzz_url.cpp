// Outbound URLs (image inputs, webhooks), redirect targets and the EGRESS_ALLOW list: the parsers behind the
// server's egress rules. A parsed URL must be http(s) with a host and a port in range.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "net/ip_address.h"
#include "net/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkdream::net;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto check = [](const std::optional<Url>& u) {
    if (!u) return;
    if ((u->scheme != "http" && u->scheme != "https") || u->host.empty() || u->port < 1 || u->port > 65535 ||
        u->target.empty() || u->target[0] != '/')
      __builtin_trap();
  };
  const size_t nl = text.find('\n');
  std::optional<Url> base = parse_url(text.substr(0, nl));
  check(base);
  if (base && nl != std::string_view::npos) check(resolve_url(*base, text.substr(nl + 1)));
  if (auto ip = parse_ip_literal(text)) (void)blocked_range(*ip);
  try {
    for (const Cidr& c : parse_cidr_list(text))
      if (auto ip = parse_ip_literal(text.substr(0, text.find('/')))) (void)c.contains(*ip);
  } catch (const std::invalid_argument&) {  // the documented refusal of a bad EGRESS_ALLOW entry
  }
  return 0;
}
