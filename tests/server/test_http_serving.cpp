// The serving API (port 3000) end to end over loopback: probes, /prompt sync with real PNGs, the error table
// of reliability.md, request ids, auth, metrics.
#include "media/base64.h"
#include "media/image_type.h"
#include "test_http_support.h"

namespace vkdream::server::test {

namespace {

std::string body_with(const std::string& prompt, const std::string& extra = "") {
  return "{\"prompt\": " + prompt + (extra.empty() ? "" : ", " + extra) + "}";
}

}  // namespace

TEST_F(ServerTest, HealthAndReadyFollowWarmUp) {
  start(/*warm=*/false);
  auto h = http("GET", url("/health"));
  EXPECT_EQ(h.status, 500);
  EXPECT_EQ(h.json().find("status")->as_string(), "not healthy");
  EXPECT_TRUE(h.json().find("version")->is_string());
  EXPECT_EQ(http("GET", url("/ready")).status, 503);
  server->mark_warm();
  h = http("GET", url("/health"));
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json().find("status")->as_string(), "healthy");
  auto r = http("GET", url("/ready"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json().find("status")->as_string(), "ready");
}

TEST_F(ServerTest, WarmUpRunsThePromptFileAndFailureThrows) {
  fs::path good = root / "warm.json", bad = root / "bad.json";
  std::ofstream(good) << save_prompt(1);
  std::ofstream(bad) << R"({"1": {"class_type": "TestThrow", "inputs": {"value": 0}}, "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}}})";
  config.warmup_prompt_file = good.string();
  start(false);
  server->warm_up();
  EXPECT_EQ(http("GET", url("/health")).status, 200);
  EXPECT_EQ(runtime->executed.load(), 1);
  server.reset();
  config.warmup_prompt_file = bad.string();
  start(false);
  EXPECT_THROW(server->warm_up(), std::runtime_error);
  EXPECT_EQ(http("GET", url("/health")).status, 500);
}

TEST_F(ServerTest, ModelsListsEachFolder) {
  std::ofstream(root / "models/checkpoints/a.safetensors") << "x";
  std::ofstream(root / "models/loras/l.safetensors") << "x";
  start();
  auto r = http("GET", url("/models"));
  ASSERT_EQ(r.status, 200);
  JsonValue j = r.json();
  ASSERT_EQ(j.find("checkpoints")->size(), 1u);
  EXPECT_EQ(j.find("checkpoints")->items()[0].as_string(), "a.safetensors");
  EXPECT_EQ(j.find("loras")->items()[0].as_string(), "l.safetensors");
  EXPECT_EQ(j.find("vae")->size(), 0u);
  EXPECT_EQ(j.find("embeddings")->size(), 0u);
}

TEST_F(ServerTest, SyncPromptReturnsBase64PngsAndDeletesOutputs) {
  start();
  auto r = http("POST", url("/prompt"), body_with(save_prompt(200), R"("id": "req-1", "extra": 5)"));
  ASSERT_EQ(r.status, 200) << r.body;
  JsonValue j = r.json();
  EXPECT_EQ(j.find("id")->as_string(), "req-1");
  EXPECT_EQ(j.find("extra")->as_int(), 5);  // the body is echoed
  ASSERT_EQ(j.find("images")->size(), 1u);
  EXPECT_EQ(j.find("filenames")->items()[0].as_string(), "req-1_img_00001_.png");
  auto png = media::base64_decode(j.find("images")->items()[0].as_string(), 1 << 20);
  ASSERT_TRUE(png);
  EXPECT_EQ(media::sniff_image_type(*png), media::ImageType::PNG);
  // The prompt as executed carries the prefixed filename_prefix.
  EXPECT_EQ(j.find("prompt")->find("1")->find("inputs")->find("filename_prefix")->as_string(), "req-1_img");
  const JsonValue* stats = j.find("stats");
  ASSERT_TRUE(stats && stats->is_object());
  for (const char* k : {"preprocess_time", "postprocess_time", "total_time"}) EXPECT_TRUE(stats->find(k)->is_number()) << k;
  const JsonValue* ce = stats->find("comfy_execution");
  ASSERT_TRUE(ce && ce->find("nodes")->find("1"));
  EXPECT_GE(ce->find("end")->as_int(), ce->find("start")->as_int());
  EXPECT_TRUE(fs::is_empty(root / "output"));  // stateless
  // A generated id is a UUID.
  r = http("POST", url("/prompt"), body_with(save_prompt(3)));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json().find("id")->as_string().size(), 36u);
}

TEST_F(ServerTest, RepeatedIdenticalPromptWithSameIdIsAClearError) {
  start();
  ASSERT_EQ(http("POST", url("/prompt"), body_with(save_prompt(4), R"("id": "same")")).status, 200);
  auto r = http("POST", url("/prompt"), body_with(save_prompt(4), R"("id": "same")"));
  // The executor serves the cached output node, whose file is gone (stateless): a 500 that says why.
  ASSERT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.json().find("error")->as_string().find("served from the cache"), std::string::npos) << r.body;
  EXPECT_EQ(http("POST", url("/prompt"), body_with(save_prompt(4), R"("id": "other")")).status, 200);
}

TEST_F(ServerTest, ConvertOutputToJpegAndWebp) {
  start();
  for (auto [fmt, type] : {std::pair{"jpeg", media::ImageType::JPEG}, std::pair{"webp", media::ImageType::WebP}}) {
    auto r = http("POST", url("/prompt"),
                  body_with(save_prompt(9), std::string(R"("convert_output": {"format": ")") + fmt +
                                                R"(", "options": {"quality": 90}})"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto bytes = media::base64_decode(r.json().find("images")->items()[0].as_string(), 1 << 20);
    EXPECT_EQ(media::sniff_image_type(*bytes), type) << fmt;
  }
  auto r = http("POST", url("/prompt"), body_with(save_prompt(), R"("convert_output": {"format": "tiff"})"));
  EXPECT_EQ(r.status, 400);
}

TEST_F(ServerTest, InputErrorsAre400WithLocations) {
  start();
  struct Case {
    std::string body, location;
  } cases[] = {
      {"not json", "body"},
      {"[1, 2]", "body"},
      {"{}", "prompt"},
      {R"({"prompt": 5})", "prompt"},
      {body_with(save_prompt(), R"("id": "../../etc")"), "id"},
      {body_with(save_prompt(), R"("webhook_v2": "ftp://x")"), "webhook_v2"},
      {body_with(R"({"1": {"class_type": "TestConstInt", "inputs": {"value": 1}}})"), "prompt"},  // no filename_prefix
      {body_with(R"({"1": {"class_type": "NoSuchNode", "inputs": {"filename_prefix": "x"}}})"), "prompt"},
      {body_with(R"({"1": {"class_type": "TestHttpSave", "inputs": {"value": 999, "filename_prefix": "x", "ticks": 0, "tick_ms": 0}}})"), "prompt"},
      {body_with(R"({"1": {"class_type": "EmptyLatentImage", "inputs": {"width": 4096, "height": 512, "filename_prefix": "x"}}})"), "prompt.1.inputs.width"},
      {body_with(R"({"1": {"class_type": "X", "inputs": {"steps": 151, "filename_prefix": "x"}}})"), "prompt.1.inputs.steps"},
      {body_with(R"({"1": {"class_type": "X", "inputs": {"batch_size": 17, "filename_prefix": "x"}}})"), "prompt.1.inputs.batch_size"},
      {body_with(R"({"1": {"class_type": "X", "inputs": {"denoise": 1.5, "filename_prefix": "x"}}})"), "prompt.1.inputs.denoise"},
      {body_with(R"({"1": {"class_type": "X", "inputs": {"cfg": 101, "filename_prefix": "x"}}})"), "prompt.1.inputs.cfg"},
      {body_with(R"({"1": {"class_type": "X", "inputs": {"text": ")" + std::string(70000, 'a') + R"(", "filename_prefix": "x"}}})"), "prompt.1.inputs.text"},
      {body_with(R"({"1": {"class_type": "TestHttpLoadImage", "inputs": {"image": "missing.png"}}, "2": {"class_type": "TestHttpSave", "inputs": {"value": ["1", 0], "filename_prefix": "x", "ticks": 0, "tick_ms": 0}}})"), "prompt.1.inputs.image"},
  };
  for (const auto& c : cases) {
    auto r = http("POST", url("/prompt"), c.body);
    EXPECT_EQ(r.status, 400) << c.body.substr(0, 200) << " -> " << r.body;
    if (r.status != 400) continue;
    JsonValue j = r.json();
    EXPECT_TRUE(j.find("error") && j.find("error")->is_string());
    EXPECT_EQ(j.find("location")->as_string(), c.location) << c.body.substr(0, 200);
  }
  // Validation errors carry ComfyUI's node_errors.
  auto r = http("POST", url("/prompt"), body_with(R"({"1": {"class_type": "TestHttpSave", "inputs": {"value": 999, "filename_prefix": "x", "ticks": 0, "tick_ms": 0}}})"));
  JsonValue rj = r.json();
  const JsonValue* ne = rj.find("node_errors");
  ASSERT_TRUE(ne && ne->find("1"));
  EXPECT_EQ(ne->find("1")->find("errors")->items()[0].find("type")->as_string(), "value_bigger_than_max");
  EXPECT_EQ(runtime->executed.load(), 0);  // nothing malformed was queued
}

TEST_F(ServerTest, Base64ImageInputIsResolvedIntoTheInputFolder) {
  start();
  std::string png_b64;
  {  // a real PNG: run a prompt and take its output
    auto r = http("POST", url("/prompt"), body_with(save_prompt(50)));
    png_b64 = r.json().find("images")->items()[0].as_string();
  }
  std::string prompt = R"({"1": {"class_type": "TestHttpLoadImage", "inputs": {"image": "data:image/png;base64,)" + png_b64 +
                       R"("}}, "2": {"class_type": "TestHttpSave", "inputs": {"value": ["1", 0], "filename_prefix": "x", "ticks": 0, "tick_ms": 0}}})";
  auto r = http("POST", url("/prompt"), body_with(prompt, R"("id": "b64")"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().find("prompt")->find("1")->find("inputs")->find("image")->as_string(), "b64_1.png");
  EXPECT_TRUE(fs::is_empty(root / "input"));  // deleted after the request
  auto bad = http("POST", url("/prompt"), body_with(R"({"1": {"class_type": "TestHttpLoadImage", "inputs": {"image": "data:image/png;base64,AAAA"}}, "2": {"class_type": "TestHttpSave", "inputs": {"value": ["1", 0], "filename_prefix": "x", "ticks": 0, "tick_ms": 0}}})"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.json().find("error")->as_string().find("Failed to download image for node 1"), std::string::npos);
}

TEST_F(ServerTest, ExecutionFailureIs500AndServerSurvives) {
  start();
  auto r = http("POST", url("/prompt"), body_with(R"({"1": {"class_type": "TestThrow", "inputs": {"value": 0}}, "2": {"class_type": "TestHttpSave", "inputs": {"value": ["1", 0], "filename_prefix": "x", "ticks": 0, "tick_ms": 0}}})"));
  ASSERT_EQ(r.status, 500) << r.body;
  JsonValue j = r.json();
  EXPECT_EQ(j.find("error")->as_string(), "Prompt execution failed: boom from TestThrow");
  EXPECT_EQ(j.find("node_id")->as_string(), "1");
  EXPECT_EQ(j.find("node_type")->as_string(), "TestThrow");
  EXPECT_EQ(http("POST", url("/prompt"), body_with(save_prompt())).status, 200);
}

TEST_F(ServerTest, UnknownRouteMethodMediaTypeAndBodySize) {
  config.max_body_bytes = 64 << 10;
  start();
  EXPECT_EQ(http("GET", url("/nope")).status, 404);
  EXPECT_TRUE(http("GET", url("/nope")).json().find("error"));
  EXPECT_EQ(http("GET", url("/prompt")).status, 405);
  EXPECT_EQ(http("POST", url("/prompt"), "a=b", {"Content-Type: application/x-www-form-urlencoded"}).status, 415);
  auto big = http("POST", url("/prompt"), body_with(save_prompt(), "\"pad\": \"" + std::string(200 << 10, 'x') + "\""));
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.json().find("error")->as_string().find("MAX_BODY_SIZE_MB"), std::string::npos) << big.body;
  EXPECT_EQ(http("GET", url("/health")).status, 200);
}

TEST_F(ServerTest, BearerAuthExceptProbesAndMetrics) {
  config.api_token = "s3cret";
  start();
  EXPECT_EQ(http("GET", url("/health")).status, 200);
  EXPECT_EQ(http("GET", url("/ready")).status, 200);
  EXPECT_EQ(http("GET", url("/metrics")).status, 200);
  auto r = http("GET", url("/models"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.json().find("error")->as_string(), "Unauthorized");
  EXPECT_EQ(http("GET", url("/models"), "", {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(http("GET", url("/models"), "", {"Authorization: Bearer s3cret"}).status, 200);
  EXPECT_EQ(http("POST", url("/prompt"), body_with(save_prompt())).status, 401);
  EXPECT_EQ(http("GET", comfy("/object_info")).status, 401);
  EXPECT_EQ(http("GET", comfy("/object_info"), "", {"Authorization: Bearer s3cret"}).status, 200);
  std::lock_guard<std::mutex> lock(log_mu);
  for (const auto& l : log_lines) EXPECT_EQ(l.find("s3cret"), std::string::npos);  // never logged
}

TEST_F(ServerTest, RequestIdIsEchoedOrGeneratedAndLoggedOncePerRequest) {
  start();
  auto r = http("GET", url("/health"), "", {"X-Request-Id: abc-123"});
  EXPECT_EQ(r.headers["x-request-id"], "abc-123");
  r = http("GET", url("/health"), "", {"X-Request-Id: bad id with spaces"});
  EXPECT_EQ(r.headers["x-request-id"].size(), 36u);
  r = http("POST", url("/prompt"), body_with(save_prompt()), {"X-Request-Id: gen-7"});
  EXPECT_EQ(r.headers["x-request-id"], "gen-7");
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard<std::mutex> lock(log_mu);
    return log_lines.size() >= 3;
  }));
  std::lock_guard<std::mutex> lock(log_mu);
  int found = 0;
  for (const auto& l : log_lines) {
    JsonValue j = graph::parse_json(l);
    for (const char* k : {"time", "level", "request_id", "route", "status"}) EXPECT_TRUE(j.find(k)) << l;
    if (j.find("request_id")->as_string() == "gen-7") {
      ++found;
      EXPECT_EQ(j.find("status")->as_int(), 200);
      EXPECT_TRUE(j.find("queue_ms") && j.find("execution_ms")) << l;
      EXPECT_EQ(l.find("iVBOR"), std::string::npos);  // no base64 payloads in logs
    }
  }
  EXPECT_EQ(found, 1);
}

TEST_F(ServerTest, MetricsInPrometheusFormat) {
  start();
  http("POST", url("/prompt"), body_with(save_prompt(1, 2, 0)));
  http("GET", url("/nope"));
  auto r = http("GET", url("/metrics"));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers["content-type"].find("text/plain"), std::string::npos);
  for (const char* m : {"vkdream_requests_total{route=\"serving POST /prompt\",code=\"200\"} 1",
                        "vkdream_requests_total{route=\"serving GET other\",code=\"404\"} 1",
                        "vkdream_request_duration_seconds_bucket{le=\"+Inf\"}", "vkdream_queue_wait_seconds_count 1",
                        "vkdream_inference_seconds_count 1", "vkdream_queue_depth 0", "vkdream_inflight 0",
                        "vkdream_model_ready 1", "vkdream_sampler_steps_total 2", "process_resident_memory_bytes ",
                        "# TYPE vkdream_rejected_total counter", "# TYPE vkdream_cancelled_total counter",
                        "# TYPE vkdream_webhook_attempts_total counter", "# TYPE vkdream_egress_blocked_total counter"})
    EXPECT_NE(r.body.find(m), std::string::npos) << m << "\n" << r.body;
}

TEST_F(ServerTest, OpenApiAndDocs) {
  fs::create_directories(root / "workflows/demo");
  std::ofstream(root / "workflows/demo/save.json") << R"({"summary": "Save a gray square",
    "input": {"value": {"type": "integer", "default": 5, "minimum": 0, "maximum": 255}},
    "prompt": {"1": {"class_type": "TestHttpSave", "inputs": {"value": "{{value}}", "filename_prefix": "wf", "ticks": 0, "tick_ms": 0}}}})";
  fs::create_directories(root / "swagger");
  std::ofstream(root / "swagger/swagger-ui-bundle.js") << "// bundle";
  config.swagger_ui_dir = (root / "swagger").string();
  start();
  auto r = http("GET", url("/openapi.json"));
  ASSERT_EQ(r.status, 200);
  JsonValue doc = r.json();
  EXPECT_EQ(doc.find("openapi")->as_string().substr(0, 2), "3.");
  for (const char* p : {"/prompt", "/health", "/ready", "/interrupt", "/workflow/demo/save"})
    EXPECT_TRUE(doc.find("paths")->find(p)) << p;
  auto d = http("GET", url("/docs"));
  EXPECT_EQ(d.status, 200);
  EXPECT_NE(d.body.find("/openapi.json"), std::string::npos);
  EXPECT_EQ(http("GET", url("/docs/swagger-ui-bundle.js")).body, "// bundle");
  EXPECT_EQ(http("GET", url("/docs/../../etc/passwd")).status, 404);
}

TEST_F(ServerTest, WorkflowEndpointFillsDefaultsAndValidatesInput) {
  fs::create_directories(root / "workflows/demo");
  std::ofstream(root / "workflows/demo/save.json") << R"({"summary": "Save a gray square",
    "input": {"value": {"type": "integer", "default": 5, "minimum": 0, "maximum": 255}},
    "prompt": {"1": {"class_type": "TestHttpSave", "inputs": {"value": "{{value}}", "filename_prefix": "wf", "ticks": 0, "tick_ms": 0}}}})";
  start();
  auto r = http("POST", url("/workflow/demo/save"), R"({"input": {}, "id": "w1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().find("input")->find("value")->as_int(), 5);
  EXPECT_EQ(r.json().find("filenames")->items()[0].as_string(), "w1_wf_00001_.png");
  r = http("POST", url("/workflow/demo/save"), R"({"input": {"value": 300}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json().find("location")->as_string().substr(0, 5), "input");
  EXPECT_EQ(http("POST", url("/workflow/demo/nope"), R"({"input": {}})").status, 404);
}

}  // namespace vkdream::server::test
