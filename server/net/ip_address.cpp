#include "net/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <cstring>
#include <stdexcept>

namespace vkdream::net {
namespace {

// One part of an inet_aton address: decimal, 0-prefixed octal or 0x-prefixed hex; nullopt if malformed
// or above `max`.
std::optional<uint64_t> parse_aton_part(std::string_view s, uint64_t max) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  if (s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
    if (s.empty()) return uint64_t(0);  // "0x" is 0 for inet_aton
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    if (d >= base) return std::nullopt;
    v = v * base + d;
    if (v > max) return std::nullopt;
  }
  return v;
}

// IPv4 in every form inet_aton (and so browsers and curl) accept: a, a.b, a.b.c, a.b.c.d.
std::optional<IpAddress> parse_ipv4_aton(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);  // "127.0.0.1." is the same host
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.empty() || parts.size() > 4) return std::nullopt;
  uint32_t value = 0;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto v = parse_aton_part(parts[i], 255);
    if (!v) return std::nullopt;
    value |= uint32_t(*v) << (24 - 8 * i);
  }
  const uint64_t last_max = 0xffffffffull >> (8 * (parts.size() - 1));
  auto last = parse_aton_part(parts.back(), last_max);
  if (!last) return std::nullopt;
  value |= uint32_t(*last);
  IpAddress ip;
  ip.bytes[0] = uint8_t(value >> 24);
  ip.bytes[1] = uint8_t(value >> 16);
  ip.bytes[2] = uint8_t(value >> 8);
  ip.bytes[3] = uint8_t(value);
  return ip;
}

std::optional<IpAddress> parse_ipv6(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.find(':') == std::string_view::npos || s.find('%') != std::string_view::npos || s.size() > 45) return std::nullopt;
  const std::string text(s);
  in6_addr a{};
  if (inet_pton(AF_INET6, text.c_str(), &a) != 1) return std::nullopt;
  IpAddress ip;
  ip.v6 = true;
  std::memcpy(ip.bytes.data(), &a, 16);
  return ip;
}

bool in_v4(const IpAddress& ip, uint8_t a, uint8_t b, uint8_t c, uint8_t d, int prefix) {
  const uint32_t v = (uint32_t(ip.bytes[0]) << 24) | (uint32_t(ip.bytes[1]) << 16) | (uint32_t(ip.bytes[2]) << 8) | ip.bytes[3];
  const uint32_t base = (uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | d;
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix);
  return (v & mask) == (base & mask);
}

bool in_v6(const IpAddress& ip, std::initializer_list<uint8_t> prefix_bytes, int prefix) {
  std::array<uint8_t, 16> base{};
  size_t i = 0;
  for (uint8_t b : prefix_bytes) base[i++] = b;
  Cidr c{IpAddress{true, base}, prefix};
  return c.contains(ip);
}

}  // namespace

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> parse_ip_literal(std::string_view host) {
  if (host.empty()) return std::nullopt;
  if (host.front() == '[' || host.find(':') != std::string_view::npos) return parse_ipv6(host);
  // An inet_aton form starts with a digit; "0x..." included.
  if (!std::isdigit(static_cast<unsigned char>(host.front()))) return std::nullopt;
  return parse_ipv4_aton(host);
}

std::optional<IpAddress> ip_from_sockaddr(const sockaddr* sa) {
  if (!sa) return std::nullopt;
  IpAddress ip;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(ip.bytes.data(), &in->sin_addr, 4);
    return ip;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ip.v6 = true;
    std::memcpy(ip.bytes.data(), &in6->sin6_addr, 16);
    return ip;
  }
  return std::nullopt;
}

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.v6 != base.v6) return false;
  int bits = prefix;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  Cidr c;
  if (addr.find(':') != std::string_view::npos) {
    auto ip = parse_ipv6(addr);
    if (!ip) return std::nullopt;
    c.base = *ip;
  } else {
    const std::string s(addr);
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;  // strict dotted quad
    std::memcpy(c.base.bytes.data(), &a, 4);
  }
  const int max = c.base.v6 ? 128 : 32;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    int v = 0;
    for (char ch : p) {
      if (!std::isdigit(static_cast<unsigned char>(ch))) return std::nullopt;
      v = v * 10 + (ch - '0');
    }
    if (v > max) return std::nullopt;
    c.prefix = v;
  }
  return c;
}

std::vector<Cidr> parse_cidr_list(std::string_view text) {
  std::vector<Cidr> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || std::isspace(static_cast<unsigned char>(text[i])))) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ',' && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) {
      const std::string_view entry = text.substr(i, j - i);
      auto c = parse_cidr(entry);
      if (!c) throw std::invalid_argument("EGRESS_ALLOW: '" + std::string(entry) + "' is not an IP address or CIDR range");
      out.push_back(*c);
    }
    i = j;
  }
  return out;
}

std::optional<std::string> blocked_range(const IpAddress& ip) {
  if (!ip.v6) {
    if (in_v4(ip, 0, 0, 0, 0, 8)) return "unspecified";
    if (in_v4(ip, 127, 0, 0, 0, 8)) return "loopback";
    if (in_v4(ip, 10, 0, 0, 0, 8) || in_v4(ip, 172, 16, 0, 0, 12) || in_v4(ip, 192, 168, 0, 0, 16)) return "private";
    if (in_v4(ip, 100, 64, 0, 0, 10)) return "cgnat";
    if (in_v4(ip, 169, 254, 0, 0, 16)) return "link-local";
    if (in_v4(ip, 224, 0, 0, 0, 4)) return "multicast";
    if (in_v4(ip, 240, 0, 0, 0, 4)) return "reserved";  // includes 255.255.255.255
    if (in_v4(ip, 192, 0, 0, 0, 24) || in_v4(ip, 198, 18, 0, 0, 15)) return "reserved";  // IETF, benchmarking
    if (in_v4(ip, 192, 0, 2, 0, 24) || in_v4(ip, 198, 51, 100, 0, 24) || in_v4(ip, 203, 0, 113, 0, 24))
      return "documentation";
    return std::nullopt;
  }
  if (in_v6(ip, {}, 128)) return "unspecified";
  if (in_v6(ip, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128)) return "loopback";
  if (in_v6(ip, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96)) return "ipv4-mapped";
  if (in_v6(ip, {}, 96)) return "ipv4-compatible";  // deprecated ::a.b.c.d
  if (in_v6(ip, {0x00, 0x64, 0xff, 0x9b}, 96)) return "nat64";
  if (in_v6(ip, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48)) return "nat64";  // local-use NAT64
  if (in_v6(ip, {0xfc}, 7)) return "private";                              // unique local
  if (in_v6(ip, {0xfe, 0x80}, 10)) return "link-local";
  if (in_v6(ip, {0xfe, 0xc0}, 10)) return "reserved";                      // site-local (deprecated)
  if (in_v6(ip, {0xff}, 8)) return "multicast";
  if (in_v6(ip, {0x20, 0x01, 0x0d, 0xb8}, 32)) return "documentation";
  if (in_v6(ip, {0x01, 0x00}, 64)) return "reserved";                      // discard prefix
  if (in_v6(ip, {0x20, 0x02}, 16)) return "6to4";                          // embeds an IPv4 address
  if (in_v6(ip, {0x20, 0x01, 0x00, 0x00}, 32)) return "teredo";            // embeds an IPv4 address
  return std::nullopt;
}

}  // namespace vkdream::net
