#include "server.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "comfy_api.h"
#include "ids.h"
#include "net/webhook.h"
#include "pistache_listener.h"
#include "router.h"
#include "server_context.h"
#include "serving_api.h"
#include "worker_pool.h"

namespace vkdream::server {

using graph::JsonValue;

namespace {

int level_rank(const std::string& level) {
  if (level == "debug") return 0;
  if (level == "info") return 1;
  if (level == "warn" || level == "warning") return 2;
  if (level == "error") return 3;
  return 1;
}

// Constant-time comparison, so the token cannot be guessed byte by byte from response times.
bool equal_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

}  // namespace

struct Server::Impl {
  // First: destroyed last, after the queue's final callbacks have logged.
  std::function<void(const std::string&)> log_sink = [](const std::string& line) {
    std::fputs((line + "\n").c_str(), stderr);
  };
  ServerContext ctx;
  WorkerPool workers;
  Router serving_routes, comfy_routes;
  std::unique_ptr<PistacheListener> serving, comfy;

  Impl(ServerConfig config, Runtime& runtime)
      : ctx(std::move(config), runtime), workers(2, ctx.config.max_queue_depth + 4) {
    add_serving_routes(serving_routes, ctx, workers);
    add_comfy_routes(comfy_routes, ctx);
  }

  void dispatch(HttpRequest& req, const std::shared_ptr<Responder>& res, const Router& router, bool comfy_api) {
    const std::string* rid = req.header("x-request-id");
    req.request_id = rid && is_valid_id(*rid) ? *rid : new_uuid();
    res->extra_headers.emplace_back("X-Request-Id", req.request_id);
    if (comfy_api && (req.path == "/api" || req.path.rfind("/api/", 0) == 0)) req.path = req.path.substr(4);
    if (req.path.empty()) req.path = "/";
    res->on_sent = [this, api = comfy_api ? "comfyui" : "serving", method = req.method, path = req.path,
                    rid = req.request_id, received = req.received](const HttpResponse& r, const RequestTiming& t) {
      double secs = std::chrono::duration<double>(Clock::now() - received).count();
      log_request(api, method, path, rid, r.status, secs, t);
    };
    bool exempt = !comfy_api && (req.path == "/health" || req.path == "/ready" || req.path == "/metrics");
    if (!ctx.config.api_token.empty() && !exempt) {
      const std::string* auth = req.header("authorization");
      std::string token = auth && auth->rfind("Bearer ", 0) == 0 ? auth->substr(7) : "";
      if (!equal_secret(token, ctx.config.api_token)) {
        ctx.metrics.rejected("unauthorized");
        HttpResponse r = HttpResponse::error(401, "Unauthorized");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return res->send(std::move(r));
      }
    }
    if (req.body.size() > ctx.config.max_body_bytes) {
      ctx.metrics.rejected("body_too_large");
      return res->send(HttpResponse::error(413, "Request body is " + std::to_string(req.body.size()) +
                                                    " bytes, more than MAX_BODY_SIZE_MB allows (" +
                                                    std::to_string(ctx.config.max_body_bytes) + " bytes)"));
    }
    RouteFn fn;
    switch (router.match(req, &fn)) {
      case Router::Match::NotFound:
        return res->send(HttpResponse::error(404, "Not found: " + req.method + " " + req.path));
      case Router::Match::WrongMethod:
        return res->send(HttpResponse::error(405, "Method not allowed: " + req.method + " " + req.path));
      case Router::Match::Found:
        break;
    }
    fn(req, res);
  }

  void log_request(const char* api, const std::string& method, const std::string& path, const std::string& rid,
                   int status, double secs, const RequestTiming& t) {
    ctx.metrics.request(std::string(api) + " " + method + " " + metric_route(path), status, secs);
    const char* level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
    if (level_rank(level) < level_rank(ctx.config.log_level)) return;
    JsonValue line = JsonValue::object({{"time", JsonValue::string(net::iso8601_utc(std::chrono::system_clock::now()))},
                                        {"level", JsonValue::string(level)},
                                        {"request_id", JsonValue::string(rid)},
                                        {"api", JsonValue::string(api)},
                                        {"method", JsonValue::string(method)},
                                        {"route", JsonValue::string(path)},
                                        {"status", JsonValue::integer(status)},
                                        {"duration_ms", JsonValue::number(secs * 1000)}});
    if (t.queue_ms >= 0) line.set("queue_ms", JsonValue::number(t.queue_ms));
    if (t.exec_ms >= 0) line.set("execution_ms", JsonValue::number(t.exec_ms));
    log_sink(line.dump());
  }

  // Bounded label values for the route: ids and file names collapse to their pattern.
  static std::string metric_route(const std::string& path) {
    static const char* kPrefixes[] = {"/history/", "/object_info/", "/models/", "/docs/", "/jobs/"};
    for (const char* p : kPrefixes)
      if (path.rfind(p, 0) == 0) return std::string(p) + "{id}";
    if (path.rfind("/workflow/", 0) == 0 && path.size() < 128) return path;
    static const char* kKnown[] = {"/health", "/ready", "/models", "/prompt", "/interrupt", "/metrics", "/docs",
                                   "/openapi.json", "/history", "/view", "/upload/image", "/object_info", "/queue",
                                   "/system_stats", "/embeddings", "/free", "/jobs"};
    for (const char* k : kKnown)
      if (path == k) return path;
    return "other";
  }
};

Server::Server(ServerConfig config, Runtime& runtime) : impl_(std::make_unique<Impl>(std::move(config), runtime)) {}

Server::~Server() {
  stop();
}

ServerContext& Server::context() { return impl_->ctx; }

void Server::set_log_sink(std::function<void(const std::string&)> sink) { impl_->log_sink = std::move(sink); }

void Server::start() {
  const ServerConfig& c = impl_->ctx.config;
  PistacheListener::Options o;
  o.host = c.host;
  o.threads = c.http_threads;
  // Pistache buffers up to this and answers a longer request with its own plain-text 413; bodies over our limit
  // by less than the slack get the JSON 413 of dispatch (logged and counted like every error).
  o.max_request_bytes = c.max_body_bytes + (1u << 20);
  o.header_timeout_s = c.header_timeout_s;
  o.body_timeout_s = c.body_timeout_s;
  o.keepalive_timeout_s = c.request_timeout_s + 60;
  o.port = c.port;
  Impl* impl = impl_.get();
  impl_->serving = std::make_unique<PistacheListener>(o, [impl](HttpRequest& req, const std::shared_ptr<Responder>& res) {
    impl->dispatch(req, res, impl->serving_routes, false);
  });
  impl_->serving->start();
  if (c.comfyui_port >= 0) {
    o.port = c.comfyui_port;
    impl_->comfy = std::make_unique<PistacheListener>(o, [impl](HttpRequest& req, const std::shared_ptr<Responder>& res) {
      impl->dispatch(req, res, impl->comfy_routes, true);
    });
    impl_->comfy->start();
  }
}

void Server::mark_warm() { impl_->ctx.warm.store(true); }

void Server::warm_up() {
  ServerContext& ctx = impl_->ctx;
  const std::string& file = ctx.config.warmup_prompt_file;
  if (file.empty()) return mark_warm();
  std::ifstream f(file, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read WARMUP_PROMPT_FILE " + file);
  std::stringstream ss;
  ss << f.rdbuf();
  JsonValue doc = graph::parse_json(ss.str());
  // Either a bare API-format graph or a /prompt body {"prompt": {...}}.
  const JsonValue* graph_json = doc.is_object() && doc.find("prompt") && doc.find("prompt")->is_object() ? doc.find("prompt") : &doc;
  for (const auto& [id, node] : graph_json->members()) {
    const JsonValue* inputs = node.is_object() ? node.find("inputs") : nullptr;
    const JsonValue* ckpt = inputs && inputs->is_object() ? inputs->find("ckpt_name") : nullptr;
    if (ckpt && ckpt->is_string() && ctx.warmup_checkpoint.empty()) ctx.warmup_checkpoint = ckpt->as_string();
  }
  graph::ValidationResult v = ctx.runtime.validate(*graph_json, nullptr);
  if (!v.ok) throw std::runtime_error("warm-up prompt is invalid: " + v.error_response().dump());
  graph::ExecResult result;
  ctx.queue.run_on_executor([&] { result = ctx.runtime.execute(v, "warmup-" + new_uuid(), {}); });
  if (!result.success) throw std::runtime_error("warm-up prompt failed: " + result.error.dump());
  mark_warm();
}

int Server::port() const { return impl_->serving ? impl_->serving->port() : 0; }
int Server::comfyui_port() const { return impl_->comfy ? impl_->comfy->port() : 0; }

bool Server::drain() {
  ServerContext& ctx = impl_->ctx;
  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(ctx.config.drain_timeout_s * 1000));
  bool all = ctx.queue.drain(timeout);
  ctx.webhooks.flush(5000);  // results of the drained jobs, at least one attempt each
  return all;
}

void Server::stop() {
  if (impl_->serving) impl_->serving->shutdown();
  if (impl_->comfy) impl_->comfy->shutdown();
}

}  // namespace vkdream::server
