// Shared set-up for the HTTP server tests: a Runtime over the real plugin loader and executor with the test
// node packs (no GPU), a server on ephemeral loopback ports with its own folders, and a small libcurl client.
#pragma once

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "graph/executor.h"
#include "graph/host.h"
#include "graph/node_registry.h"
#include "graph/plugin_loader.h"
#include "graph/prompt.h"
#include "graph/validate.h"
#include "runtime.h"
#include "server.h"
#include "server_context.h"

namespace vkdream::server::test {

namespace fs = std::filesystem;
using graph::JsonValue;

class TestRuntime : public Runtime {
 public:
  TestRuntime() {
    host_.set_log([](int, const std::string&, const std::string&) {});
    graph::PluginLoader loader(registry_, host_);
    EXPECT_TRUE(loader.load_file(std::string(VKDREAM_GRAPH_PLUGIN_DIR) + "/vkdtest_nodes.so"));
    EXPECT_TRUE(loader.load_file(std::string(VKDREAM_HTTP_PLUGIN_DIR) + "/vkdtest_http_nodes.so"));
    executor_ = std::make_unique<graph::Executor>(registry_, host_);
  }
  graph::ValidationResult validate(const JsonValue& g, const std::vector<std::string>* t) override {
    return graph::validate_prompt(graph::prompt_from_json(g), registry_, t);
  }
  graph::ExecResult execute(const graph::ValidationResult& v, const std::string& id, const graph::EventFn& ev) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++executed;
    return executor_->execute(v.prompt, v.good_outputs, id, ev);
  }
  void interrupt() override { executor_->interrupt(); }
  JsonValue object_info() override { return registry_.object_info_all(); }
  JsonValue object_info(const std::string& c) override {
    const graph::NodeClass* nc = registry_.find(c);
    return nc ? registry_.object_info(*nc) : JsonValue();
  }
  JsonValue device_info() override {
    return JsonValue::object({{"name", JsonValue::string("test device")}, {"type", JsonValue::string("cpu")},
                              {"vram_total", JsonValue::integer(1)}, {"vram_free", JsonValue::integer(1)}});
  }
  void clear_cache() override { executor_->cache().clear(); }
  graph::Host& host() override { return host_; }

  std::atomic<int> executed{0};

 private:
  graph::Host host_;
  graph::NodeRegistry registry_{host_.c_host()};
  std::unique_ptr<graph::Executor> executor_;
  std::mutex mu_;
};

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  JsonValue json() const { return graph::parse_json(body, {64, 1u << 30}); }
};

inline size_t curl_write(char* p, size_t s, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, s * n);
  return s * n;
}
inline size_t curl_header(char* p, size_t s, size_t n, void* ud) {
  std::string line(p, s * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(ud))[name] = value;
  }
  return s * n;
}

// One request; headers as "Name: value". timeout_ms bounds the whole exchange (0 = 30 s).
inline HttpResult http(const std::string& method, const std::string& url, const std::string& body = "",
                       std::vector<std::string> headers = {}, long timeout_ms = 0) {
  HttpResult r;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_slist* hl = nullptr;
  bool has_ct = false;
  for (const auto& h : headers) {
    hl = curl_slist_append(hl, h.c_str());
    if (h.rfind("Content-Type", 0) == 0) has_ct = true;
  }
  if (method == "POST" && !has_ct) hl = curl_slist_append(hl, "Content-Type: application/json");
  hl = curl_slist_append(hl, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, curl_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms ? timeout_ms : 30000L);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  else r.status = -static_cast<long>(rc);
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  return r;
}

// A prompt for the serving API: TestConstInt -> TestHttpSave (value, steps x step_ms).
inline std::string save_prompt(int value = 7, int steps = 0, int step_ms = 0, const std::string& prefix = "img") {
  return R"({"1": {"class_type": "TestHttpSave", "inputs": {"value": )" + std::to_string(value) +
         R"(, "filename_prefix": ")" + prefix + R"(", "ticks": )" + std::to_string(steps) + R"(, "tick_ms": )" +
         std::to_string(step_ms) + "}}}";
}

class ServerTest : public ::testing::Test {
 public:
  fs::path root;
  std::unique_ptr<TestRuntime> runtime;
  std::unique_ptr<Server> server;
  std::vector<std::string> log_lines;
  std::mutex log_mu;

  // Adjust before start().
  ServerConfig config;

  void SetUp() override {
    static std::atomic<int> n{0};
    root = fs::temp_directory_path() / ("vkdream_http_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    for (const char* d : {"input", "output", "temp", "models/checkpoints", "models/loras", "models/vae", "models/embeddings",
                          "workflows"})
      fs::create_directories(root / d);
    runtime = std::make_unique<TestRuntime>();
    for (const char* kind : {"input", "output", "temp", "models"})
      runtime->host().set_directory(kind, (root / kind).string());
    config.host = "127.0.0.1";
    config.port = 0;
    config.comfyui_port = 0;
    config.workflow_dir = (root / "workflows").string();
    config.http_threads = 2;
  }

  void start(bool warm = true) {
    server = std::make_unique<Server>(config, *runtime);
    server->set_log_sink([this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu);
      log_lines.push_back(line);
    });
    server->start();
    if (warm) server->mark_warm();
  }

  void TearDown() override {
    server.reset();
    runtime.reset();
    std::error_code ec;
    fs::remove_all(root, ec);
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(server->port()) + path; }
  std::string comfy(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->comfyui_port()) + path;
  }
  ServerContext& ctx() { return server->context(); }

  // Waits until pred() or timeout.
  template <class F>
  static bool wait_for(F pred, int timeout_ms = 10000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }
};

}  // namespace vkdream::server::test
