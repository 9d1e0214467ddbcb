// vkdream_net: address classification (every spelling), EGRESS_ALLOW, URL rules, and real fetches against a
// loopback server: blocking, pinning, size cap, timeouts, redirects.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "media/base64.h"
#include "net/egress_policy.h"
#include "net/fetch.h"
#include "net/ip_address.h"
#include "net/transfer.h"
#include "net/url.h"
#include "test_net_loopback_server.h"

using namespace vkdream::net;
using vkdream::test::LoopbackHttpServer;
using vkdream::test::ReceivedRequest;

namespace {

std::string reason_of(const char* host) {
  auto ip = parse_ip_literal(host);
  if (!ip) return "(not a literal)";
  return blocked_range(*ip).value_or("public");
}

EgressPolicy allow_loopback() { return EgressPolicy(parse_cidr_list("127.0.0.1/32")); }

const std::string kPng = std::string("\x89PNG\r\n\x1a\n", 8) + "rest-of-a-png";

}  // namespace

TEST(IpAddress, EverySpellingOfLoopbackIsLoopback) {
  for (const char* h : {"127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7F.1", "0177.0.0.1",
                        "0177.0.0.01", "127.0.0.1.", "127.255.255.254"}) {
    auto ip = parse_ip_literal(h);
    ASSERT_TRUE(ip) << h;
    EXPECT_EQ(reason_of(h), "loopback") << h;
  }
  EXPECT_EQ(parse_ip_literal("127.1")->to_string(), "127.0.0.1");
  EXPECT_EQ(parse_ip_literal("0x7f000001")->to_string(), "127.0.0.1");
  EXPECT_EQ(parse_ip_literal("0177.0.0.1")->to_string(), "127.0.0.1");
  EXPECT_EQ(reason_of("[::1]"), "loopback");
  EXPECT_EQ(reason_of("::1"), "loopback");
  EXPECT_EQ(reason_of("[::ffff:127.0.0.1]"), "ipv4-mapped");
  EXPECT_EQ(reason_of("[::ffff:7f00:1]"), "ipv4-mapped");
  EXPECT_EQ(reason_of("[64:ff9b::7f00:1]"), "nat64");
  EXPECT_EQ(reason_of("[::127.0.0.1]"), "ipv4-compatible");
}

TEST(IpAddress, ClassifiesEveryBlockedRange) {
  EXPECT_EQ(reason_of("0.0.0.0"), "unspecified");
  EXPECT_EQ(reason_of("0"), "unspecified");
  EXPECT_EQ(reason_of("0.1.2.3"), "unspecified");
  EXPECT_EQ(reason_of("10.1.2.3"), "private");
  EXPECT_EQ(reason_of("172.16.0.1"), "private");
  EXPECT_EQ(reason_of("172.31.255.255"), "private");
  EXPECT_EQ(reason_of("172.32.0.1"), "public");
  EXPECT_EQ(reason_of("192.168.1.1"), "private");
  EXPECT_EQ(reason_of("100.64.0.1"), "cgnat");
  EXPECT_EQ(reason_of("100.127.255.255"), "cgnat");
  EXPECT_EQ(reason_of("100.128.0.1"), "public");
  EXPECT_EQ(reason_of("169.254.169.254"), "link-local");
  EXPECT_EQ(reason_of("224.0.0.1"), "multicast");
  EXPECT_EQ(reason_of("239.255.255.250"), "multicast");
  EXPECT_EQ(reason_of("240.0.0.1"), "reserved");
  EXPECT_EQ(reason_of("255.255.255.255"), "reserved");
  EXPECT_EQ(reason_of("::"), "unspecified");
  EXPECT_EQ(reason_of("fc00::1"), "private");
  EXPECT_EQ(reason_of("fd12:3456::1"), "private");
  EXPECT_EQ(reason_of("fe80::1"), "link-local");
  EXPECT_EQ(reason_of("ff02::1"), "multicast");
  EXPECT_EQ(reason_of("2001:db8::1"), "documentation");
  EXPECT_EQ(reason_of("8.8.8.8"), "public");
  EXPECT_EQ(reason_of("1.1.1.1"), "public");
  EXPECT_EQ(reason_of("2606:4700:4700::1111"), "public");
  EXPECT_EQ(reason_of("2a00:1450:4001::200e"), "public");
}

TEST(IpAddress, HostNamesAndMalformedAreNotLiterals) {
  for (const char* h : {"example.com", "localhost", "1password.com", "256.0.0.1", "1.2.3.4.5", "0x1g", "08.0.0.1",
                        "127.0.0.1.nip.io", "", "[::1", "fe80::1%eth0", "[fe80::1%25eth0]", "1.2.3.256"})
    EXPECT_FALSE(parse_ip_literal(h)) << h;
}

TEST(Cidr, ParsesAndMatches) {
  auto c = parse_cidr("10.0.0.0/8");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains(*parse_ip_literal("10.200.3.4")));
  EXPECT_FALSE(c->contains(*parse_ip_literal("11.0.0.1")));
  EXPECT_FALSE(c->contains(*parse_ip_literal("::1")));
  auto one = parse_cidr("127.0.0.1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->prefix, 32);
  auto v6 = parse_cidr("fd00::/8");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*parse_ip_literal("fdab::1")));
  EXPECT_TRUE(parse_cidr("0.0.0.0/0")->contains(*parse_ip_literal("1.2.3.4")));
  EXPECT_TRUE(parse_cidr("10.0.0.0/13")->contains(*parse_ip_literal("10.7.255.255")));
  EXPECT_FALSE(parse_cidr("10.0.0.0/13")->contains(*parse_ip_literal("10.8.0.0")));
  for (const char* bad : {"10.0.0.0/33", "127.1/32", "10.0.0.0/", "x/8", "::1/129", "10.0.0.0/8a"})
    EXPECT_FALSE(parse_cidr(bad)) << bad;
  EXPECT_EQ(parse_cidr_list(" 127.0.0.1/32, ::1/128\n10.0.0.0/8 ").size(), 3u);
  EXPECT_THROW(parse_cidr_list("127.0.0.1/32,nope"), std::invalid_argument);
}

TEST(EgressPolicy, AllowListOpensOnlyItsRange) {
  const EgressPolicy none;
  EXPECT_EQ(none.check(*parse_ip_literal("127.0.0.1")).value_or(""), "loopback");
  EXPECT_TRUE(none.allows(*parse_ip_literal("8.8.8.8")));
  const EgressPolicy p = allow_loopback();
  EXPECT_TRUE(p.allows(*parse_ip_literal("127.0.0.1")));
  EXPECT_FALSE(p.allows(*parse_ip_literal("127.0.0.2")));
  EXPECT_FALSE(p.allows(*parse_ip_literal("::1")));
  EXPECT_FALSE(p.allows(*parse_ip_literal("::ffff:127.0.0.1")));  // the mapped form is its own range
  setenv("EGRESS_ALLOW", "10.0.0.0/8 ::1", 1);
  const EgressPolicy env = EgressPolicy::from_env();
  EXPECT_TRUE(env.allows(*parse_ip_literal("10.1.1.1")));
  EXPECT_TRUE(env.allows(*parse_ip_literal("::1")));
  EXPECT_FALSE(env.allows(*parse_ip_literal("127.0.0.1")));
  setenv("EGRESS_ALLOW", "garbage", 1);
  EXPECT_THROW(EgressPolicy::from_env(), std::invalid_argument);
  unsetenv("EGRESS_ALLOW");
  EXPECT_TRUE(EgressPolicy::from_env().allow_list().empty());
}

TEST(Url, AcceptsHttpAndHttpsOnly) {
  auto u = parse_url("HTTP://Example.COM:8080/a/b?x=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/a/b?x=1");
  EXPECT_EQ(u->text.find('#'), std::string::npos);
  auto v6 = parse_url("https://[::1]/");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 443);
  std::string err;
  EXPECT_FALSE(parse_url("ftp://example.com/x", &err));
  EXPECT_NE(err.find("unsupported URL scheme 'ftp'"), std::string::npos) << err;
  EXPECT_FALSE(parse_url("file:///etc/passwd", &err));
  EXPECT_FALSE(parse_url("gopher://x/", &err));
  EXPECT_FALSE(parse_url("http://user:pw@example.com/", &err));
  EXPECT_NE(err.find("credentials"), std::string::npos);
  EXPECT_FALSE(parse_url("http://user@example.com/", &err));
  EXPECT_FALSE(parse_url("example.com/a.png", &err));
  EXPECT_FALSE(parse_url("http://exa mple.com/", &err));
  EXPECT_FALSE(parse_url("http://[fe80::1%25eth0]/", &err));
  EXPECT_FALSE(parse_url("http://example.com:99999/", &err));
}

TEST(Url, ResolvesRedirectLocations) {
  auto base = parse_url("http://example.com/a/b.png");
  ASSERT_TRUE(base);
  EXPECT_EQ(resolve_url(*base, "c.png")->text, "http://example.com/a/c.png");
  EXPECT_EQ(resolve_url(*base, "/x")->text, "http://example.com/x");
  EXPECT_EQ(resolve_url(*base, "https://other.org/y")->host, "other.org");
  EXPECT_FALSE(resolve_url(*base, "ftp://other.org/y"));
}

// ---- fetches over loopback ----------------------------------------------------------------------------
TEST(Fetch, LoopbackIsBlockedUnlessAllowed) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return LoopbackHttpServer::response(200, kPng); });
  FetchOptions o;
  try {
    fetch_url(server.url("/a.png"), o);
    FAIL() << "loopback fetched without EGRESS_ALLOW";
  } catch (const FetchError& e) {
    EXPECT_TRUE(e.blocked());
    EXPECT_EQ(e.reason(), "loopback");
    EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos);
  }
  // Other spellings of the same address are blocked too, and nothing ever connected.
  const std::string port = std::to_string(server.port());
  for (const std::string host : {"127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::ffff:127.0.0.1]", "[::1]", "localhost"})
    EXPECT_THROW(fetch_url("http://" + host + ":" + port + "/a.png", o), FetchError) << host;
  EXPECT_EQ(server.connections(), 0);

  o.policy = allow_loopback();
  const FetchResult r = fetch_image(server.url("/a.png"), o);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kPng);
  EXPECT_EQ(r.content_type, "application/octet-stream");
  // The decimal spelling reaches the same allowed address.
  EXPECT_EQ(fetch_url("http://2130706433:" + port + "/b", o).body, kPng);
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].target, "/a.png");
  EXPECT_EQ(server.requests()[0].method, "GET");
}

TEST(Fetch, ConnectionIsPinnedToTheCheckedAddress) {
  // The URL names 127.0.0.1, but only 127.0.0.2 was "resolved": the connect-time check refuses.
  LoopbackHttpServer server([](const ReceivedRequest&) { return LoopbackHttpServer::response(200, "x"); });
  auto url = parse_url(server.url("/"));
  const EgressPolicy policy(parse_cidr_list("127.0.0.0/8"));
  TransferRequest req;
  req.url = &*url;
  req.addresses = {*parse_ip_literal("127.0.0.2")};
  req.policy = &policy;
  req.max_body_bytes = 100;
  try {
    perform_transfer(req);
    FAIL();
  } catch (const FetchError& e) {
    EXPECT_TRUE(e.blocked());
    EXPECT_EQ(e.reason(), "unpinned-address");
  }
  EXPECT_EQ(server.connections(), 0);
  req.addresses = {*parse_ip_literal("127.0.0.1")};
  EXPECT_EQ(perform_transfer(req).body, "x");
}

TEST(Fetch, HostNameResolvesOnceAndEveryAddressIsChecked) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return LoopbackHttpServer::response(200, kPng); });
  FetchOptions o;
  o.policy = EgressPolicy(parse_cidr_list("127.0.0.1/32,::1/128"));
  const std::string url = "http://localhost:" + std::to_string(server.port()) + "/p";
  EXPECT_EQ(fetch_url(url, o).body, kPng);
  ASSERT_FALSE(server.requests().empty());
  EXPECT_EQ(server.requests().back().headers["host"], "localhost:" + std::to_string(server.port()));
  EXPECT_THROW(fetch_url("http://no-such-host.invalid/x", o), FetchError);
}

TEST(Fetch, BodyCapAppliesWhileStreaming) {
  const std::string big(5000, 'a');
  LoopbackHttpServer server([&](const ReceivedRequest& r) {
    if (r.target == "/nolength")  // no Content-Length: only the streaming cap can stop it
      return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big;
    return LoopbackHttpServer::response(200, big);
  });
  FetchOptions o;
  o.policy = allow_loopback();
  o.max_bytes = 1000;
  for (const char* path : {"/length", "/nolength"}) {
    try {
      fetch_url(server.url(path), o);
      FAIL() << path;
    } catch (const FetchError& e) {
      EXPECT_EQ(e.kind(), FetchError::Kind::TooLarge) << path << ": " << e.what();
    }
  }
  o.max_bytes = 5000;
  EXPECT_EQ(fetch_url(server.url("/nolength"), o).body.size(), 5000u);
}

TEST(Fetch, SlowServerTimesOut) {
  LoopbackHttpServer server([](const ReceivedRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return LoopbackHttpServer::response(200, "late");
  });
  FetchOptions o;
  o.policy = allow_loopback();
  o.total_timeout_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  try {
    fetch_url(server.url("/"), o);
    FAIL();
  } catch (const FetchError& e) {
    EXPECT_EQ(e.kind(), FetchError::Kind::Timeout) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1400));
}

TEST(Fetch, RedirectsAreBoundedAndRechecked) {
  LoopbackHttpServer server([](const ReceivedRequest& r) {
    auto redirect = [](const std::string& to) { return LoopbackHttpServer::response(302, "", "Location: " + to + "\r\n"); };
    if (r.target == "/img") return LoopbackHttpServer::response(200, kPng);
    if (r.target == "/r1") return redirect("/img");
    if (r.target == "/r3") return redirect("/r2");
    if (r.target == "/r2") return redirect("r1");  // relative
    if (r.target == "/r4") return redirect("/r3");
    if (r.target == "/private") return redirect("http://10.0.0.1/img");
    if (r.target == "/ftp") return redirect("ftp://example.com/img");
    return LoopbackHttpServer::response(404, "no");
  });
  FetchOptions o;
  o.policy = allow_loopback();
  const FetchResult r = fetch_url(server.url("/r3"), o);
  EXPECT_EQ(r.body, kPng);
  EXPECT_EQ(r.redirects, 3);
  EXPECT_EQ(r.final_url, server.url("/img"));
  try {
    fetch_url(server.url("/r4"), o);
    FAIL();
  } catch (const FetchError& e) {
    EXPECT_EQ(e.kind(), FetchError::Kind::TooManyRedirects);
  }
  try {
    fetch_url(server.url("/private"), o);
    FAIL();
  } catch (const FetchError& e) {
    EXPECT_TRUE(e.blocked());
    EXPECT_EQ(e.reason(), "private");
  }
  EXPECT_THROW(fetch_url(server.url("/ftp"), o), FetchError);
  try {
    fetch_url(server.url("/missing"), o);
    FAIL();
  } catch (const FetchError& e) {
    EXPECT_EQ(e.kind(), FetchError::Kind::HttpStatus);
    EXPECT_EQ(e.status(), 404);
  }
  o.max_redirects = 0;
  EXPECT_THROW(fetch_url(server.url("/r1"), o), FetchError);
}

TEST(Fetch, NonImageBodyIsRefusedByFetchImage) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return LoopbackHttpServer::response(200, "<html></html>"); });
  FetchOptions o;
  o.policy = allow_loopback();
  try {
    fetch_image(server.url("/"), o);
    FAIL();
  } catch (const FetchError& e) {
    EXPECT_EQ(e.reason(), "not_image");
  }
}

TEST(Fetch, BadUrlsFailBeforeAnyNetwork) {
  FetchOptions o;
  for (const char* u : {"ftp://example.com/a.png", "http://user:pw@example.com/", "not a url", "file:///etc/passwd"}) {
    try {
      fetch_url(u, o);
      FAIL() << u;
    } catch (const FetchError& e) {
      EXPECT_EQ(e.kind(), FetchError::Kind::BadUrl) << u;
    }
  }
}

// Random and mutated strings through every parser of untrusted text: no crash, no exception but the
// documented ones (run under ASan/UBSan for out-of-bounds reads).
TEST(NetParsers, SurviveRandomInput) {
  std::mt19937 rng(99);
  const std::string alphabet = "0123456789abcdefxX.:[]%/@#?=&-_ \t\r\n\\\x7f\x80\xff";
  const std::vector<std::string> seeds = {"127.0.0.1", "0x7f.1", "[::ffff:127.0.0.1]", "http://a.b/c?d#e",
                                          "https://[::1]:80/", "10.0.0.0/8", "fe80::1%eth0", "http://u:p@h/"};
  for (int i = 0; i < 3000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    for (int e = 0, n = 1 + int(rng() % 5); e < n; ++e) {
      const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0: s.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        case 1: if (at < s.size()) s.erase(at, 1); break;
        default: if (at < s.size()) s[at] = alphabet[rng() % alphabet.size()]; break;
      }
    }
    if (auto ip = parse_ip_literal(s)) (void)blocked_range(*ip);
    (void)parse_cidr(s);
    std::string err;
    if (auto u = parse_url(s, &err)) {
      EXPECT_TRUE(u->scheme == "http" || u->scheme == "https") << s;
      (void)resolve_url(*u, s, &err);
    }
  }
}
