#include "serving_api.h"

#include <chrono>

#include "docs_routes.h"
#include "route_util.h"
#include "serving_prompt.h"

namespace vkdream::server {

using graph::JsonValue;

namespace {

JsonValue status_body(const ServerContext& ctx, const char* status) {
  return JsonValue::object({{"version", JsonValue::string(ctx.config.version)}, {"status", JsonValue::string(status)}});
}

// Queues a prepared prompt; answers now (async 202, errors) or when the job finishes (sync).
void submit_prepared(ServerContext& ctx, const HttpRequest& req, std::shared_ptr<PreparedPrompt> prep,
                     const std::shared_ptr<Responder>& res) {
  auto job = std::make_shared<Job>();
  job->id = prep->id;
  job->number = ctx.next_number.fetch_add(1);
  job->validated = prep->validated;
  job->deadline = req.received + std::chrono::milliseconds(static_cast<int64_t>(ctx.config.request_timeout_s * 1000));
  bool async = prep->async();
  if (!async) job->client_gone = [res] { return res->client_gone(); };
  job->on_event = [&ctx](const graph::ExecEvent& e) {
    if (e.type == "progress") ctx.metrics.sampler_step();
  };
  job->on_done = [&ctx, prep, res, async](Job& j) {
    if (j.started != Clock::time_point{}) {
      ctx.metrics.queue_wait(j.queue_ms() / 1000);
      ctx.metrics.inference(j.exec_ms() / 1000);
    }
    if (j.state == JobState::Cancelled) ctx.metrics.cancelled(j.cancel_reason);
    HttpResponse r = finished_response(ctx, *prep, j);
    if (!async) {
      res->send(std::move(r), {j.queue_ms(), j.exec_ms()});
      return;
    }
    if (!prep->webhook_v2.empty())
      for (auto& b : webhook_bodies(*prep, r, true)) ctx.webhooks.post(prep->webhook_v2, prep->id, std::move(b), true);
    if (!prep->webhook.empty())
      for (auto& b : webhook_bodies(*prep, r, false)) ctx.webhooks.post(prep->webhook, prep->id, std::move(b), false);
  };
  switch (ctx.queue.submit(job)) {
    case JobQueue::Submit::Full:
      cleanup_prepared(*prep);
      ctx.metrics.rejected("queue_full");
      res->send(queue_full_response(ctx.queue.depth()));
      return;
    case JobQueue::Submit::Draining:
      cleanup_prepared(*prep);
      ctx.metrics.rejected("draining");
      res->send(draining_response());
      return;
    case JobQueue::Submit::Accepted:
      break;
  }
  if (async) {
    JsonValue out = prep->body;
    out.set("status", JsonValue::string("ok"));
    out.set("id", JsonValue::string(prep->id));
    out.set("prompt", prep->validated.prompt.to_json());
    res->send(HttpResponse::json(202, out));
  }
}

// /prompt and /workflow/...: everything that may block runs on the worker pool.
void handle_prompt(ServerContext& ctx, WorkerPool& workers, HttpRequest& req, const std::shared_ptr<Responder>& res,
                   const workflows::WorkflowTemplate* tmpl) {
  if (ctx.draining()) {
    ctx.metrics.rejected("draining");
    return res->send(draining_response());
  }
  if (ctx.queue.depth() >= ctx.queue.max_depth()) {  // rejected before any work (the queue re-checks)
    ctx.metrics.rejected("queue_full");
    return res->send(queue_full_response(ctx.queue.depth()));
  }
  bool posted = workers.post([&ctx, req, res, tmpl] {
    JsonValue body;
    if (auto err = parse_json_body(req, &body)) return res->send(*err);
    JsonValue filled_input;
    if (tmpl) {
      if (!body.is_object()) return res->send(HttpResponse::error(400, "Request body must be a JSON object",
                                                                  {{"location", JsonValue::string("body")}}));
      const JsonValue* input = body.find("input");
      try {
        auto filled = workflows::fill_workflow(*tmpl, input ? *input : JsonValue::object(), ctx.dynamic_values);
        filled_input = filled.input;
        body.set("prompt", filled.prompt);
      } catch (const workflows::InputError& e) {
        return res->send(HttpResponse::error(400, e.what(), {{"location", JsonValue::string(e.location())}}));
      }
    }
    auto prep = std::make_shared<PreparedPrompt>();
    if (auto err = prepare_prompt(ctx, std::move(body), prep.get())) {
      ctx.metrics.rejected("invalid");
      return res->send(*err);
    }
    if (tmpl) prep->body.set("input", filled_input);
    submit_prepared(ctx, req, prep, res);
  });
  if (!posted) {
    ctx.metrics.rejected("queue_full");
    res->send(queue_full_response(ctx.queue.depth()));
  }
}

}  // namespace

void add_serving_routes(Router& router, ServerContext& ctx, WorkerPool& workers) {
  router.add("GET", "/health", [&ctx](HttpRequest&, const std::shared_ptr<Responder>& res) {
    bool ok = ctx.healthy();
    res->send(HttpResponse::json(ok ? 200 : 500, status_body(ctx, ok ? "healthy" : "not healthy")));
  });
  router.add("GET", "/ready", [&ctx](HttpRequest&, const std::shared_ptr<Responder>& res) {
    bool ok = ctx.warm.load() && !ctx.draining() && ctx.queue.depth() < ctx.queue.max_depth() && ctx.healthy();
    res->send(HttpResponse::json(ok ? 200 : 503, status_body(ctx, ok ? "ready" : "not ready")));
  });
  router.add("GET", "/models", [&ctx](HttpRequest&, const std::shared_ptr<Responder>& res) {
    JsonValue out = JsonValue::object();
    for (const char* kind : {"checkpoints", "loras", "vae", "embeddings"}) {
      JsonValue list = JsonValue::array();
      for (const auto& f : ctx.runtime.host().list_files(kind)) list.push(JsonValue::string(f));
      out.set(kind, list);
    }
    res->send(HttpResponse::json(200, out));
  });
  router.add("POST", "/prompt", [&ctx, &workers](HttpRequest& req, const std::shared_ptr<Responder>& res) {
    handle_prompt(ctx, workers, req, res, nullptr);
  });
  router.add("POST", "/workflow/{name*}", [&ctx, &workers](HttpRequest& req, const std::shared_ptr<Responder>& res) {
    const auto* tmpl = workflows::find_workflow(ctx.workflows, "/workflow/" + req.params["name"]);
    if (!tmpl) return res->send(HttpResponse::error(404, "No workflow endpoint /workflow/" + req.params["name"]));
    handle_prompt(ctx, workers, req, res, tmpl);
  });
  router.add("POST", "/interrupt", [&ctx](HttpRequest& req, const std::shared_ptr<Responder>& res) {
    JsonValue body;
    if (auto err = parse_json_body(req, &body)) return res->send(*err);
    const JsonValue* id = body.is_object() ? body.find("id") : nullptr;
    if (!id || !id->is_string())
      return res->send(HttpResponse::error(400, "\"id\" is required", {{"location", JsonValue::string("id")}}));
    bool ok = ctx.queue.cancel(id->as_string(), "user");
    res->send(HttpResponse::json(ok ? 200 : 404, JsonValue::object({{"id", *id},
                                                                   {"interrupted", JsonValue::string(ok ? "success" : "failed")}})));
  });
  router.add("GET", "/metrics", [&ctx](HttpRequest&, const std::shared_ptr<Responder>& res) {
    res->send({200, ctx.metrics.render(), "text/plain; version=0.0.4", {}});
  });
  add_docs_routes(router, ctx);
}

}  // namespace vkdream::server
