#include "docs_routes.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "route_util.h"
#include "safe_path.h"

namespace vkdream::server {

using graph::JsonValue;
namespace fs = std::filesystem;

namespace {

JsonValue parse(const char* text) { return graph::parse_json(text); }

// The /prompt fields besides the graph, shared by /prompt and every workflow endpoint.
JsonValue prompt_extra_properties() {
  return parse(R"J({
    "id": {"type": "string", "description": "Request id (default: a new UUID); prefixes output file names"},
    "webhook_v2": {"type": "string", "format": "uri", "description": "Standard Webhooks receiver; the request then answers 202"},
    "webhook": {"type": "string", "format": "uri", "description": "Legacy webhook: one POST per image"},
    "convert_output": {"type": "object", "properties": {
      "format": {"type": "string", "enum": ["png", "jpeg", "jpg", "webp"]},
      "options": {"type": "object", "properties": {"quality": {"type": "integer", "minimum": 1, "maximum": 100}}}}}
  })J");
}

JsonValue prompt_responses() {
  return parse(R"J({
    "200": {"description": "Images as base64", "content": {"application/json": {"schema": {"type": "object", "properties": {
      "id": {"type": "string"}, "images": {"type": "array", "items": {"type": "string"}},
      "filenames": {"type": "array", "items": {"type": "string"}}, "stats": {"type": "object"}}}}}},
    "202": {"description": "Accepted; the result is delivered to the webhook"},
    "400": {"description": "Invalid request"}, "401": {"description": "Missing or wrong bearer token"},
    "409": {"description": "Interrupted"}, "413": {"description": "Body too large"},
    "429": {"description": "Queue full (see Retry-After)"}, "500": {"description": "Execution failed"},
    "503": {"description": "Not ready or shutting down"}, "504": {"description": "Deadline exceeded"}
  })J");
}


std::string mime_of(const std::string& name) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".js")) return "application/javascript";
  if (ends(".css")) return "text/css";
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".png")) return "image/png";
  if (ends(".map") || ends(".json")) return "application/json";
  return "application/octet-stream";
}

const char* kSwaggerIndex = R"J(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>vkdream API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>
)J";

}  // namespace

JsonValue openapi_document(ServerContext& ctx) {
  JsonValue paths = JsonValue::object();
  auto simple_get = [&](const char* path, const char* summary) {
    paths.set(path, JsonValue::object({{"get", JsonValue::object({{"summary", JsonValue::string(summary)},
                                                                  {"responses", parse(R"J({"200": {"description": "OK"}})J")}})}}));
  };
  simple_get("/health", "Liveness: 200 once the warm-up prompt completed");
  simple_get("/ready", "Readiness: 200 when warm, not draining and the queue has room");
  simple_get("/models", "Model files per folder");
  simple_get("/metrics", "Prometheus metrics");

  JsonValue prompt_props = prompt_extra_properties();
  JsonValue prompt_schema_props = JsonValue::object(
      {{"prompt", parse(R"J({"type": "object", "description": "ComfyUI API-format prompt", "additionalProperties": true})J")}});
  for (const auto& m : prompt_props.members()) prompt_schema_props.set(m.first, m.second);
  JsonValue prompt_body = JsonValue::object(
      {{"required", JsonValue::boolean(true)},
       {"content", JsonValue::object({{"application/json",
                                       JsonValue::object({{"schema", JsonValue::object({{"type", JsonValue::string("object")},
                                                                                        {"required", JsonValue::array({JsonValue::string("prompt")})},
                                                                                        {"properties", prompt_schema_props}})}})}})}});
  paths.set("/prompt", JsonValue::object({{"post", JsonValue::object({{"summary", JsonValue::string("Run a ComfyUI prompt")},
                                                                      {"requestBody", prompt_body},
                                                                      {"responses", prompt_responses()}})}}));
  paths.set("/interrupt", JsonValue::object({{"post", JsonValue::object(
      {{"summary", JsonValue::string("Interrupt a queued or running prompt")},
       {"requestBody", parse(R"J({"content": {"application/json": {"schema": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}}})J")},
       {"responses", parse(R"J({"200": {"description": "Interrupted"}, "404": {"description": "Unknown id"}})J")}})}}));
  for (const auto& t : ctx.workflows.templates) {
    try {
      paths.set(t.endpoint, workflows::openapi_path_item(t, ctx.dynamic_values, prompt_props, prompt_responses()));
    } catch (const std::exception&) {
      // a template whose schema cannot be rendered is left out of the document, not fatal
    }
  }
  JsonValue doc = JsonValue::object(
      {{"openapi", JsonValue::string("3.0.3")},
       {"info", JsonValue::object({{"title", JsonValue::string("vkdream")}, {"version", JsonValue::string(ctx.config.version)}})},
       {"paths", paths}});
  if (!ctx.config.api_token.empty()) {
    doc.set("components", parse(R"J({"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}})J"));
    doc.set("security", parse(R"J([{"bearer": []}])J"));
  }
  return doc;
}

std::string find_swagger_ui_dir(const ServerConfig& config) {
  auto ok = [](const fs::path& p) { return fs::exists(p / "swagger-ui-bundle.js"); };
  if (!config.swagger_ui_dir.empty()) return ok(config.swagger_ui_dir) ? config.swagger_ui_dir : "";
  std::vector<fs::path> roots;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    for (fs::path p = fs::path(exe).parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      roots.push_back(p);
      roots.push_back(p / "share" / "vkdream");
    }
  }
#ifdef VKDREAM_SOURCE_DIR
  roots.emplace_back(VKDREAM_SOURCE_DIR);
#endif
  for (const auto& r : roots)
    if (ok(r / "node_modules" / "swagger-ui-dist")) return (r / "node_modules" / "swagger-ui-dist").string();
  return "";
}

void add_docs_routes(Router& router, ServerContext& ctx) {
  router.add("GET", "/openapi.json", [&ctx](HttpRequest&, const std::shared_ptr<Responder>& res) {
    res->send(HttpResponse::json(200, openapi_document(ctx)));
  });
  std::string dir = find_swagger_ui_dir(ctx.config);
  router.add("GET", "/docs", [dir](HttpRequest&, const std::shared_ptr<Responder>& res) {
    if (dir.empty()) return res->send(HttpResponse::error(404, "Swagger UI is not installed (scripts/setup.sh runs npm ci)"));
    res->send({200, kSwaggerIndex, "text/html; charset=utf-8", {}});
  });
  router.add("GET", "/docs/{file*}", [dir](HttpRequest& req, const std::shared_ptr<Responder>& res) {
    auto path = dir.empty() ? std::nullopt : resolve_in_folder(dir, "", req.params["file"], true);
    auto data = path ? read_file(*path) : std::nullopt;
    if (!data) return res->send(HttpResponse::error(404, "Not found"));
    res->send({200, std::move(*data), mime_of(*path), {{"Cache-Control", "public, max-age=3600"}}});
  });
}

}  // namespace vkdream::server
