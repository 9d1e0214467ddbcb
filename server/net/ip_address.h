// IP addresses for the egress rules: every spelling a URL host can take (inet_aton forms such as "127.1",
// "2130706433", "0x7f000001", "0177.0.0.1"; bracketed IPv6 with embedded IPv4), CIDR ranges, and the
// classifier that names why an address is not allowed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sockaddr;

namespace vkdream::net {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // v4 uses bytes[0..3]

  // "127.0.0.1", "::1" (RFC 5952 compressed form for v6).
  std::string to_string() const;
  bool operator==(const IpAddress& o) const { return v6 == o.v6 && bytes == o.bytes; }
};

// Parses a URL host as an IP literal: IPv4 in every inet_aton form (1-4 parts, decimal/octal/hex), or
// IPv6 with or without brackets (zone ids refused). nullopt when it is a host name (or malformed).
std::optional<IpAddress> parse_ip_literal(std::string_view host);

// IpAddress of a sockaddr_in / sockaddr_in6; nullopt for other families.
std::optional<IpAddress> ip_from_sockaddr(const sockaddr* sa);

struct Cidr {
  IpAddress base;
  int prefix = 0;  // 0..32 (v4) or 0..128 (v6)

  bool contains(const IpAddress& ip) const;  // same family only
};

// "127.0.0.1/32", "::1/128", "10.0.0.0/8"; a bare address is a full-length prefix. Strict dotted-quad
// IPv4 only. nullopt when malformed.
std::optional<Cidr> parse_cidr(std::string_view text);

// Parses a list of CIDRs separated by commas and/or whitespace (EGRESS_ALLOW); throws
// std::invalid_argument naming the first bad entry.
std::vector<Cidr> parse_cidr_list(std::string_view text);

// Why `ip` may not be reached from the server ("loopback", "private", "link-local", "multicast",
// "unspecified", "reserved", "cgnat", "ipv4-mapped", "nat64", "documentation", ...), or nullopt for a
// public address. Ignores EGRESS_ALLOW (see EgressPolicy).
std::optional<std::string> blocked_range(const IpAddress& ip);

}  // namespace vkdream::net
