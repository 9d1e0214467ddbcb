// Concurrency and life cycle: the bounded queue (429), probes while generating, interrupts (200/404/409),
// client disconnect and deadline cancellation (504), SIGTERM-style drain (503), async webhooks.
#include <strings.h>

#include <cstdlib>
#include <future>

#include "net/webhook.h"
#include "test_http_support.h"
#include "test_net_loopback_server.h"

namespace vkdream::server::test {

namespace {

std::string body_with(const std::string& prompt, const std::string& extra = "") {
  return "{\"prompt\": " + prompt + (extra.empty() ? "" : ", " + extra) + "}";
}

}  // namespace

TEST_F(ServerTest, QueueFullIs429WithRetryAfterAndProbesStayFast) {
  config.max_queue_depth = 1;
  start();
  // A long job runs, a second waits: the queue (depth 1) is full.
  ASSERT_EQ(http("POST", comfy("/prompt"), body_with(save_prompt(1, 400, 10))).status, 200);
  ASSERT_TRUE(wait_for([&] { return ctx().queue.busy(); }));
  ASSERT_EQ(http("POST", comfy("/prompt"), body_with(save_prompt(2))).status, 200);
  auto r = http("POST", url("/prompt"), body_with(save_prompt(3)));
  EXPECT_EQ(r.status, 429);
  EXPECT_FALSE(r.headers["retry-after"].empty());
  EXPECT_EQ(http("POST", comfy("/prompt"), body_with(save_prompt(4))).status, 429);
  EXPECT_EQ(http("GET", url("/ready")).status, 503);  // full: not ready for more
  // /health answers while the executor is busy (generous bound; a blocked reactor would take seconds).
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(http("GET", url("/health")).status, 200);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
  EXPECT_GE(ctx().metrics.counter_value("vkdream_rejected_total", "queue_full"), 2);
  http("POST", comfy("/queue"), R"({"clear": true})");
  http("POST", comfy("/interrupt"), "{}");
  EXPECT_TRUE(wait_for([&] { return !ctx().queue.busy(); }));
  EXPECT_EQ(http("GET", url("/ready")).status, 200);
}

TEST_F(ServerTest, InterruptRunningAndQueuedPrompts) {
  start();
  auto running = std::async(std::launch::async, [&] {
    return http("POST", url("/prompt"), body_with(save_prompt(1, 1000, 10), R"("id": "long1")"));
  });
  ASSERT_TRUE(wait_for([&] { return ctx().queue.busy(); }));
  auto queued = std::async(std::launch::async, [&] {
    return http("POST", url("/prompt"), body_with(save_prompt(2), R"("id": "q1")"));
  });
  ASSERT_TRUE(wait_for([&] { return ctx().queue.depth() == 1; }));
  auto r = http("POST", url("/interrupt"), R"({"id": "q1"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json().find("interrupted")->as_string(), "success");
  r = http("POST", url("/interrupt"), R"({"id": "long1"})");
  EXPECT_EQ(r.status, 200);
  auto q = queued.get();
  EXPECT_EQ(q.status, 409);
  EXPECT_EQ(q.json().find("error")->as_string(), "Prompt execution interrupted");
  EXPECT_EQ(running.get().status, 409);
  r = http("POST", url("/interrupt"), R"({"id": "nope"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json().find("interrupted")->as_string(), "failed");
  EXPECT_EQ(http("POST", url("/interrupt"), R"({})").status, 400);
}

TEST_F(ServerTest, ClientDisconnectCancelsItsJob) {
  start();
  auto t0 = std::chrono::steady_clock::now();
  auto r = http("POST", url("/prompt"), body_with(save_prompt(1, 1000, 10)), {}, /*timeout_ms=*/300);
  EXPECT_LT(r.status, 0);  // the client gave up
  ASSERT_TRUE(wait_for([&] { return ctx().metrics.counter_value("vkdream_cancelled_total", "client_disconnected") == 1; }));
  ASSERT_TRUE(wait_for([&] { return !ctx().queue.busy(); }));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 8.0);  // not the full 10 s
  // A queued job whose client leaves is dropped too.
  ASSERT_EQ(http("POST", comfy("/prompt"), body_with(save_prompt(1, 100, 10))).status, 200);
  ASSERT_TRUE(wait_for([&] { return ctx().queue.busy(); }));
  http("POST", url("/prompt"), body_with(save_prompt(2)), {}, 200);
  EXPECT_TRUE(wait_for([&] { return ctx().metrics.counter_value("vkdream_cancelled_total", "client_disconnected") == 2; }));
  EXPECT_EQ(ctx().queue.depth(), 0u);
}

TEST_F(ServerTest, DeadlineIs504AndCancelsTheJob) {
  config.request_timeout_s = 0.3;
  start();
  auto r = http("POST", url("/prompt"), body_with(save_prompt(1, 1000, 10)));
  EXPECT_EQ(r.status, 504);
  EXPECT_TRUE(r.json().find("error"));
  EXPECT_EQ(ctx().metrics.counter_value("vkdream_cancelled_total", "deadline"), 1);
  EXPECT_TRUE(wait_for([&] { return !ctx().queue.busy(); }));
}

TEST_F(ServerTest, DrainFinishesRunningWorkAndRefusesNewWork) {
  start();
  auto running = std::async(std::launch::async, [&] { return http("POST", url("/prompt"), body_with(save_prompt(1, 30, 10))); });
  ASSERT_TRUE(wait_for([&] { return ctx().queue.busy(); }));
  auto drained = std::async(std::launch::async, [&] { return server->drain(); });
  ASSERT_TRUE(wait_for([&] { return ctx().draining(); }));
  EXPECT_EQ(http("GET", url("/ready")).status, 503);
  auto r = http("POST", url("/prompt"), body_with(save_prompt(2)));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(strcasecmp(r.headers["connection"].c_str(), "close"), 0) << r.headers["connection"];
  EXPECT_EQ(http("POST", comfy("/prompt"), body_with(save_prompt(2))).status, 503);
  EXPECT_EQ(running.get().status, 200);  // the running job completed
  EXPECT_TRUE(drained.get());
}

TEST_F(ServerTest, DrainTimeoutCancelsWhatIsLeft) {
  config.drain_timeout_s = 0.2;
  start();
  auto running = std::async(std::launch::async, [&] { return http("POST", url("/prompt"), body_with(save_prompt(1, 1000, 10))); });
  ASSERT_TRUE(wait_for([&] { return ctx().queue.busy(); }));
  auto queued = std::async(std::launch::async, [&] { return http("POST", url("/prompt"), body_with(save_prompt(2))); });
  ASSERT_TRUE(wait_for([&] { return ctx().queue.depth() == 1; }));
  EXPECT_FALSE(server->drain());
  EXPECT_EQ(running.get().status, 503);
  EXPECT_EQ(queued.get().status, 503);
  EXPECT_EQ(ctx().metrics.counter_value("vkdream_cancelled_total", "shutdown"), 2);
}

TEST_F(ServerTest, AsyncWebhookV2IsSignedAndLegacyWebhookPostsEachImage) {
  setenv("EGRESS_ALLOW", "127.0.0.1/32", 1);
  config.webhook_secret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  vkdream::test::LoopbackHttpServer receiver([](const vkdream::test::ReceivedRequest&) {
    return vkdream::test::LoopbackHttpServer::response(200, "ok");
  });
  start();
  unsetenv("EGRESS_ALLOW");
  auto r = http("POST", url("/prompt"), body_with(save_prompt(5), R"("id": "hook1", "webhook_v2": ")" + receiver.url("/v2") + "\""));
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json().find("status")->as_string(), "ok");
  EXPECT_EQ(r.json().find("id")->as_string(), "hook1");
  ASSERT_TRUE(wait_for([&] { return receiver.requests().size() == 1; }));
  auto req = receiver.requests()[0];
  JsonValue b = graph::parse_json(req.body, {64, 1u << 30});
  EXPECT_EQ(b.find("type")->as_string(), "prompt.complete");
  EXPECT_TRUE(b.find("timestamp")->is_string());
  EXPECT_EQ(b.find("images")->size(), 1u);
  EXPECT_EQ(req.headers["webhook-id"], "hook1");
  int64_t ts = std::stoll(req.headers["webhook-timestamp"]);
  EXPECT_EQ(req.headers["webhook-signature"], net::webhook_signature(config.webhook_secret, "hook1", ts, req.body));

  r = http("POST", url("/prompt"), body_with(save_prompt(6), R"("id": "hook2", "webhook": ")" + receiver.url("/legacy") + "\""));
  ASSERT_EQ(r.status, 202);
  ASSERT_TRUE(wait_for([&] { return receiver.requests().size() == 2; }));
  auto legacy = receiver.requests()[1];
  JsonValue lb = graph::parse_json(legacy.body, {64, 1u << 30});
  EXPECT_EQ(lb.find("event")->as_string(), "output.complete");
  EXPECT_EQ(lb.find("filename")->as_string(), "hook2_img_00001_.png");
  EXPECT_TRUE(legacy.headers.find("webhook-signature") == legacy.headers.end());

  // A failure is delivered as prompt.failed.
  r = http("POST", url("/prompt"), body_with(R"({"1": {"class_type": "TestThrow", "inputs": {"value": 0}}, "2": {"class_type": "TestHttpSave", "inputs": {"value": ["1", 0], "filename_prefix": "x", "ticks": 0, "tick_ms": 0}}})",
                                            R"("webhook_v2": ")" + receiver.url("/v2") + "\""));
  ASSERT_EQ(r.status, 202);
  ASSERT_TRUE(wait_for([&] { return receiver.requests().size() == 3; }));
  JsonValue fb = graph::parse_json(receiver.requests()[2].body);
  EXPECT_EQ(fb.find("type")->as_string(), "prompt.failed");
  EXPECT_NE(fb.find("error")->as_string().find("boom from TestThrow"), std::string::npos);
}

}  // namespace vkdream::server::test
