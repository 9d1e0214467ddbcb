// Webhooks: the Standard Webhooks known answer of api.md, signed delivery to a loopback receiver, retries
// with backoff, 410, redirects not followed, blocked targets, timeouts.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "net/webhook.h"
#include "test_net_loopback_server.h"

using namespace vkdream::net;
using vkdream::test::LoopbackHttpServer;
using vkdream::test::ReceivedRequest;

namespace {

WebhookOptions fast_options() {
  WebhookOptions o;
  o.policy = EgressPolicy(parse_cidr_list("127.0.0.1/32"));
  o.first_delay_ms = 10;
  o.timeout_ms = 2000;
  return o;
}

}  // namespace

TEST(WebhookSignature, StandardWebhooksKnownAnswer) {
  // api.md (from the Standard Webhooks specification).
  EXPECT_EQ(webhook_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1674087231,
                              R"({"test": 2432232314})"),
            "v1,AQG81rX2n4rTN1fkXoqILSHO9gAOcwya9dP41rhrQDI=");
  EXPECT_EQ(webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1674087231,
                              R"({"test": 2432232314})"),
            "v1,AQG81rX2n4rTN1fkXoqILSHO9gAOcwya9dP41rhrQDI=");
  // Any change to id, timestamp or body changes the signature.
  EXPECT_NE(webhook_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1674087232,
                              R"({"test": 2432232314})"),
            "v1,AQG81rX2n4rTN1fkXoqILSHO9gAOcwya9dP41rhrQDI=");
  EXPECT_THROW(webhook_signature("whsec_not base64!", "id", 1, "{}"), std::invalid_argument);
}

TEST(WebhookSignature, HmacSha256Rfc4231) {
  // RFC 4231 test case 2.
  const std::string mac = hmac_sha256("Jefe", "what do ya want for nothing?");
  static const char* kHex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  std::string hex;
  for (unsigned char c : mac) {
    const char* d = "0123456789abcdef";
    hex += d[c >> 4];
    hex += d[c & 15];
  }
  EXPECT_EQ(hex, kHex);
}

TEST(WebhookSignature, Iso8601Utc) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1674087231123));
  EXPECT_EQ(iso8601_utc(t), "2023-01-19T00:13:51.123Z");
  EXPECT_EQ(iso8601_utc(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
}

TEST(WebhookDelivery, SignedPostReachesTheReceiver) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return LoopbackHttpServer::response(204, ""); });
  const std::string body = R"({"type":"prompt.complete","id":"abc"})";
  WebhookRequest req{server.url("/hook"), body,
                     webhook_signature_headers("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "abc", 1700000000, body)};
  std::vector<std::string> outcomes;
  WebhookOptions o = fast_options();
  o.on_attempt = [&](const std::string& outcome) { outcomes.push_back(outcome); };
  const WebhookResult r = deliver_webhook(req, o);
  EXPECT_TRUE(r.delivered);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.last_status, 204);
  EXPECT_EQ(outcomes, std::vector<std::string>{"success"});
  auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/hook");
  EXPECT_EQ(got[0].body, body);
  EXPECT_EQ(got[0].headers["content-type"], "application/json");
  EXPECT_EQ(got[0].headers["webhook-id"], "abc");
  EXPECT_EQ(got[0].headers["webhook-timestamp"], "1700000000");
  // The receiver can verify what it got.
  EXPECT_EQ(got[0].headers["webhook-signature"],
            webhook_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", got[0].headers["webhook-id"],
                              std::stoll(got[0].headers["webhook-timestamp"]), got[0].body));
}

TEST(WebhookDelivery, RetriesWithGrowingDelaysUntilSuccess) {
  std::atomic<int> calls{0};
  std::vector<std::chrono::steady_clock::time_point> times;
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    times.push_back(std::chrono::steady_clock::now());
    return LoopbackHttpServer::response(++calls < 3 ? 503 : 200, "");
  });
  std::vector<std::string> outcomes;
  WebhookOptions o = fast_options();
  o.first_delay_ms = 60;
  o.on_attempt = [&](const std::string& outcome) { outcomes.push_back(outcome); };
  const WebhookResult r = deliver_webhook({server.url("/"), "{}", {}}, o);
  EXPECT_TRUE(r.delivered);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(outcomes, (std::vector<std::string>{"http_error", "http_error", "success"}));
  ASSERT_EQ(times.size(), 3u);
  EXPECT_GE(times[1] - times[0], std::chrono::milliseconds(55));
  EXPECT_GE(times[2] - times[1], std::chrono::milliseconds(115));  // doubled
}

TEST(WebhookDelivery, GivesUpAfterTheAttemptsAndOn410) {
  LoopbackHttpServer failing([](const ReceivedRequest& r) {
    return LoopbackHttpServer::response(r.target == "/gone" ? 410 : 500, "");
  });
  WebhookOptions o = fast_options();
  o.attempts = 3;
  WebhookResult r = deliver_webhook({failing.url("/"), "{}", {}}, o);
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(r.last_status, 500);
  EXPECT_EQ(r.last_error, "HTTP 500");
  r = deliver_webhook({failing.url("/gone"), "{}", {}}, o);
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.last_status, 410);
  EXPECT_EQ(failing.requests().size(), 4u);
}

TEST(WebhookDelivery, RedirectsAreFailuresAndNotFollowed) {
  LoopbackHttpServer server([](const ReceivedRequest& r) {
    if (r.target == "/moved") return LoopbackHttpServer::response(307, "", "Location: /target\r\n");
    return LoopbackHttpServer::response(200, "");
  });
  WebhookOptions o = fast_options();
  o.attempts = 2;
  const WebhookResult r = deliver_webhook({server.url("/moved"), "{}", {}}, o);
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(r.last_status, 307);
  for (const auto& req : server.requests()) EXPECT_EQ(req.target, "/moved");
}

TEST(WebhookDelivery, BlockedAndMalformedTargetsAreNotRetried) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return LoopbackHttpServer::response(200, ""); });
  WebhookOptions o = fast_options();
  o.policy = EgressPolicy();  // loopback not allowed
  std::vector<std::string> outcomes;
  o.on_attempt = [&](const std::string& outcome) { outcomes.push_back(outcome); };
  WebhookResult r = deliver_webhook({server.url("/"), "{}", {}}, o);
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.last_error.find("loopback"), std::string::npos) << r.last_error;
  EXPECT_EQ(outcomes, std::vector<std::string>{"blocked"});
  r = deliver_webhook({"ftp://example.com/", "{}", {}}, o);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(server.connections(), 0);
}

TEST(WebhookDelivery, SlowReceiverTimesOutPerAttempt) {
  LoopbackHttpServer server([](const ReceivedRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    return LoopbackHttpServer::response(200, "");
  });
  WebhookOptions o = fast_options();
  o.attempts = 2;
  o.timeout_ms = 200;
  std::vector<std::string> outcomes;
  o.on_attempt = [&](const std::string& outcome) { outcomes.push_back(outcome); };
  const WebhookResult r = deliver_webhook({server.url("/"), "{}", {}}, o);
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(outcomes, (std::vector<std::string>{"network_error", "network_error"}));
}

TEST(WebhookDelivery, CancellationStopsTheBackoff) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return LoopbackHttpServer::response(500, ""); });
  WebhookOptions o = fast_options();
  o.attempts = 5;
  o.first_delay_ms = 10000;
  std::atomic<bool> cancel{false};
  o.cancelled = [&] { return cancel.load(); };
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const WebhookResult r = deliver_webhook({server.url("/"), "{}", {}}, o);
  t.join();
  EXPECT_FALSE(r.delivered);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}
