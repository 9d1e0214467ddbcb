#include "comfy_api.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/sysinfo.h>

#include "comfy_jobs.h"
#include "graph/prompt.h"
#include "ids.h"
#include "media/image_decode.h"
#include "multipart.h"
#include "route_util.h"
#include "safe_path.h"

namespace vkdream::server {

using graph::JsonValue;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kModelFolders = {"checkpoints", "loras", "vae", "embeddings"};

HttpResponse comfy_error(int status, const std::string& type, const std::string& message) {
  JsonValue err = graph::make_error(type, message, message);
  return HttpResponse::json(status, JsonValue::object({{"error", err}, {"node_errors", JsonValue::object()}}));
}


bool truthy(const std::string& v) { return v == "true" || v == "1" || v == "True"; }

std::vector<std::string> string_list(const JsonValue* v) {
  std::vector<std::string> out;
  if (v && v->is_array())
    for (const auto& x : v->items())
      if (x.is_string()) out.push_back(x.as_string());
  return out;
}

void post_prompt(ServerContext& ctx, HttpRequest& req, const std::shared_ptr<Responder>& res) {
  if (ctx.draining()) return res->send(draining_response());
  JsonValue body;
  if (auto err = parse_json_body(req, &body, true)) return res->send(*err);
  if (!body.is_object()) return res->send(comfy_error(400, "invalid_prompt", "Request body must be a JSON object"));
  const JsonValue* prompt = body.find("prompt");
  if (!prompt) return res->send(comfy_error(400, "no_prompt", "No prompt provided"));

  auto job = std::make_shared<Job>();
  const JsonValue* pid = body.find("prompt_id");
  job->id = pid && pid->is_string() ? pid->as_string() : new_uuid();
  if (job->id.empty() || job->id.size() > 256) return res->send(comfy_error(400, "invalid_prompt", "Invalid prompt_id"));
  std::vector<std::string> targets;
  const JsonValue* partial = body.find("partial_execution_targets");
  if (partial && partial->is_array()) targets = string_list(partial);
  try {
    job->validated = ctx.runtime.validate(*prompt, partial && partial->is_array() ? &targets : nullptr);
  } catch (const graph::PromptError& e) {
    return res->send(comfy_error(400, e.type(), e.what()));
  }
  if (!job->validated.ok) return res->send(HttpResponse::json(400, job->validated.error_response()));

  int64_t number = ctx.next_number.fetch_add(1);
  const JsonValue* front = body.find("front");
  bool at_front = front && front->is_bool() && front->as_bool();
  job->number = at_front ? -number : number;
  if (const JsonValue* n = body.find("number"); n && n->is_number())
    job->number = n->is_int() ? static_cast<int64_t>(n->as_int()) : static_cast<int64_t>(n->as_float());
  if (const JsonValue* extra = body.find("extra_data"); extra && extra->is_object()) job->extra_data = *extra;
  if (const JsonValue* cid = body.find("client_id"); cid && cid->is_string()) job->extra_data.set("client_id", *cid);
  job->extra_data.set("create_time", JsonValue::integer(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch()).count()));
  job->deadline = req.received + std::chrono::milliseconds(static_cast<int64_t>(ctx.config.request_timeout_s * 1000));
  job->on_event = [&ctx](const graph::ExecEvent& e) {
    if (e.type == "progress") ctx.metrics.sampler_step();
  };
  job->on_done = [&ctx](Job& j) {
    if (j.started != Clock::time_point{}) {
      ctx.metrics.queue_wait(j.queue_ms() / 1000);
      ctx.metrics.inference(j.exec_ms() / 1000);
    }
    if (j.state == JobState::Cancelled) ctx.metrics.cancelled(j.cancel_reason);
    ctx.history.add(j);
  };
  switch (ctx.queue.submit(job, at_front)) {
    case JobQueue::Submit::Full:
      ctx.metrics.rejected("queue_full");
      return res->send(queue_full_response(ctx.queue.depth()));
    case JobQueue::Submit::Draining:
      ctx.metrics.rejected("draining");
      return res->send(draining_response());
    case JobQueue::Submit::Accepted:
      break;
  }
  res->send(HttpResponse::json(200, JsonValue::object({{"prompt_id", JsonValue::string(job->id)},
                                                      {"number", JsonValue::integer(job->number)},
                                                      {"node_errors", job->validated.node_errors}})));
}

JsonValue queue_json(ServerContext& ctx) {
  QueueSnapshot snap = ctx.queue.snapshot();
  JsonValue running = JsonValue::array(), pending = JsonValue::array();
  if (snap.running) running.push(History::queue_item(*snap.running));
  for (const auto& j : snap.pending) pending.push(History::queue_item(*j));
  return JsonValue::object({{"queue_running", running}, {"queue_pending", pending}});
}

void view(ServerContext& ctx, HttpRequest& req, const std::shared_ptr<Responder>& res) {
  auto q = [&](const char* k) {
    auto it = req.query.find(k);
    return it == req.query.end() ? std::string() : it->second;
  };
  std::string filename = q("filename"), type = q("type").empty() ? "output" : q("type");
  if (filename.empty()) return res->send(HttpResponse::error(400, "filename is required"));
  if (type != "output" && type != "input" && type != "temp") return res->send(HttpResponse::error(400, "Invalid type"));
  auto path = resolve_in_folder(ctx.directory(type), q("subfolder"), filename, true);
  auto data = path ? read_file(*path) : std::nullopt;
  if (!data) return res->send(HttpResponse::error(404, "Not found"));
  media::ImageType t = media::sniff_image_type(*data);
  HttpResponse r{200, std::move(*data), t == media::ImageType::Unknown ? "application/octet-stream" : media::image_mime_type(t), {}};
  r.headers.emplace_back("Content-Disposition", "filename=\"" + fs::path(*path).filename().string() + "\"");
  res->send(std::move(r));
}

void upload_image(ServerContext& ctx, HttpRequest& req, const std::shared_ptr<Responder>& res) {
  const std::string* ct = req.header("content-type");
  auto boundary = ct ? multipart_boundary(*ct) : std::nullopt;
  if (!boundary) return res->send(HttpResponse::error(415, "Expected multipart/form-data"));
  auto parts = parse_multipart(req.body, *boundary);
  if (!parts) return res->send(HttpResponse::error(400, "Malformed multipart body"));
  const FormPart* image = nullptr;
  std::string subfolder, type = "input";
  bool overwrite = false;
  for (const auto& p : *parts) {
    if (p.name == "image" && !p.filename.empty()) image = &p;
    else if (p.name == "subfolder") subfolder = p.data;
    else if (p.name == "type") type = p.data;
    else if (p.name == "overwrite") overwrite = truthy(p.data);
  }
  if (!image) return res->send(HttpResponse::error(400, "No image file in the form"));
  if (type != "input" && type != "temp" && type != "output") return res->send(HttpResponse::error(400, "Invalid type"));
  try {
    media::probe_image(image->data);
  } catch (const std::exception& e) {
    return res->send(HttpResponse::error(400, std::string("Not an acceptable image: ") + e.what()));
  }
  std::string name = fs::path(image->filename).filename().string();
  std::string folder = ctx.directory(type);
  if (!subfolder.empty()) {
    auto sub = resolve_in_folder(folder, "", subfolder, false);
    if (!sub) return res->send(HttpResponse::error(400, "Invalid subfolder"));
    std::error_code ec;
    fs::create_directories(*sub, ec);
  }
  auto path = resolve_in_folder(folder, subfolder, name, false);
  if (!path || name.empty() || name[0] == '.') return res->send(HttpResponse::error(400, "Invalid file name"));
  if (!overwrite) {  // ComfyUI: "name (1).png", "name (2).png", ...
    fs::path p(name);
    for (int i = 1; fs::exists(*path) && i < 10000; ++i) {
      name = p.stem().string() + " (" + std::to_string(i) + ")" + p.extension().string();
      path = resolve_in_folder(folder, subfolder, name, false);
      if (!path) return res->send(HttpResponse::error(400, "Invalid file name"));
    }
  }
  std::ofstream f(*path, std::ios::binary | std::ios::trunc);
  f.write(image->data.data(), static_cast<std::streamsize>(image->data.size()));
  if (!f) return res->send(HttpResponse::error(500, "Could not store the file"));
  res->send(HttpResponse::json(200, JsonValue::object({{"name", JsonValue::string(name)},
                                                      {"subfolder", JsonValue::string(subfolder)},
                                                      {"type", JsonValue::string(type)}})));
}

JsonValue system_stats(ServerContext& ctx) {
  struct sysinfo si{};
  sysinfo(&si);
  double unit = si.mem_unit ? si.mem_unit : 1;
  JsonValue devices = JsonValue::array();
  JsonValue dev = ctx.runtime.device_info();
  if (dev.is_object()) {
    JsonValue d = JsonValue::object();
    for (const char* k : {"name", "type"}) d.set(k, dev.find(k) ? *dev.find(k) : JsonValue::string(""));
    d.set("index", JsonValue::integer(0));
    for (const char* k : {"vram_total", "vram_free"}) d.set(k, dev.find(k) ? *dev.find(k) : JsonValue::integer(0));
    d.set("torch_vram_total", *d.find("vram_total"));
    d.set("torch_vram_free", *d.find("vram_free"));
    devices.push(d);
  }
  JsonValue system = JsonValue::object(
      {{"os", JsonValue::string("posix")},
       {"ram_total", JsonValue::integer(static_cast<int64_t>(si.totalram * unit))},
       {"ram_free", JsonValue::integer(static_cast<int64_t>(si.freeram * unit))},
       {"comfyui_version", JsonValue::string("vkdream " + ctx.config.version)},
       {"python_version", JsonValue::string("none (vkdream is native)")},
       {"pytorch_version", JsonValue::string("none (Vulkan)")},
       {"embedded_python", JsonValue::boolean(false)},
       {"argv", JsonValue::array({JsonValue::string("vkdream"), JsonValue::string("serve")})}});
  return JsonValue::object({{"system", system}, {"devices", devices}});
}

}  // namespace

void add_comfy_routes(Router& router, ServerContext& ctx) {
  using R = const std::shared_ptr<Responder>&;
  router.add("POST", "/prompt", [&ctx](HttpRequest& req, R res) { post_prompt(ctx, req, res); });
  router.add("GET", "/prompt", [&ctx](HttpRequest&, R res) {
    size_t n = ctx.queue.depth() + (ctx.queue.busy() ? 1 : 0);
    res->send(HttpResponse::json(200, JsonValue::object({{"exec_info", JsonValue::object(
        {{"queue_remaining", JsonValue::integer(static_cast<int64_t>(n))}})}})));
  });
  router.add("GET", "/queue", [&ctx](HttpRequest&, R res) { res->send(HttpResponse::json(200, queue_json(ctx))); });
  router.add("POST", "/queue", [&ctx](HttpRequest& req, R res) {
    JsonValue body;
    if (auto err = parse_json_body(req, &body, true)) return res->send(*err);
    if (const JsonValue* c = body.is_object() ? body.find("clear") : nullptr; c && c->is_bool() && c->as_bool())
      ctx.queue.clear_pending("user");
    for (const auto& id : string_list(body.is_object() ? body.find("delete") : nullptr)) {
      QueueSnapshot snap = ctx.queue.snapshot();
      for (const auto& j : snap.pending)
        if (j->id == id) ctx.queue.cancel(id, "user");
    }
    res->send({200, "", "text/plain", {}});
  });
  router.add("POST", "/interrupt", [&ctx](HttpRequest& req, R res) {
    JsonValue body = JsonValue::object();
    if (!req.body.empty())
      if (auto err = parse_json_body(req, &body, true)) return res->send(*err);
    const JsonValue* pid = body.is_object() ? body.find("prompt_id") : nullptr;
    if (pid && pid->is_string()) {
      QueueSnapshot snap = ctx.queue.snapshot();
      if (snap.running && snap.running->id == pid->as_string()) ctx.queue.cancel(pid->as_string(), "user");
    } else {
      ctx.queue.interrupt_running("user");
    }
    res->send({200, "", "text/plain", {}});
  });
  router.add("GET", "/history", [&ctx](HttpRequest& req, R res) {
    auto num = [&](const char* k) -> size_t {
      auto it = req.query.find(k);
      if (it == req.query.end()) return 0;
      try {
        return static_cast<size_t>(std::max(0L, std::stol(it->second)));
      } catch (...) {
        return 0;
      }
    };
    res->send(HttpResponse::json(200, ctx.history.all(num("max_items"), num("offset"))));
  });
  router.add("GET", "/history/{id}", [&ctx](HttpRequest& req, R res) {
    JsonValue out = JsonValue::object();
    if (auto e = ctx.history.find(req.params["id"])) out.set(req.params["id"], *e);
    res->send(HttpResponse::json(200, out));
  });
  router.add("POST", "/history", [&ctx](HttpRequest& req, R res) {
    JsonValue body;
    if (auto err = parse_json_body(req, &body, true)) return res->send(*err);
    if (const JsonValue* c = body.is_object() ? body.find("clear") : nullptr; c && c->is_bool() && c->as_bool())
      ctx.history.clear();
    for (const auto& id : string_list(body.is_object() ? body.find("delete") : nullptr)) ctx.history.remove(id);
    res->send({200, "", "text/plain", {}});
  });
  router.add("GET", "/view", [&ctx](HttpRequest& req, R res) { view(ctx, req, res); });
  router.add("POST", "/upload/image", [&ctx](HttpRequest& req, R res) { upload_image(ctx, req, res); });
  router.add("GET", "/object_info", [&ctx](HttpRequest&, R res) {
    res->send(HttpResponse::json(200, ctx.runtime.object_info()));
  });
  router.add("GET", "/object_info/{class}", [&ctx](HttpRequest& req, R res) {
    JsonValue out = JsonValue::object();
    JsonValue info = ctx.runtime.object_info(req.params["class"]);
    if (!info.is_null()) out.set(req.params["class"], info);
    res->send(HttpResponse::json(200, out));
  });
  router.add("GET", "/system_stats", [&ctx](HttpRequest&, R res) { res->send(HttpResponse::json(200, system_stats(ctx))); });
  router.add("GET", "/models", [](HttpRequest&, R res) {
    JsonValue out = JsonValue::array();
    for (const auto& f : kModelFolders) out.push(JsonValue::string(f));
    res->send(HttpResponse::json(200, out));
  });
  router.add("GET", "/models/{folder}", [&ctx](HttpRequest& req, R res) {
    const std::string& folder = req.params["folder"];
    if (std::find(kModelFolders.begin(), kModelFolders.end(), folder) == kModelFolders.end())
      return res->send(HttpResponse::error(404, "Unknown model folder"));
    JsonValue out = JsonValue::array();
    for (const auto& f : ctx.runtime.host().list_files(folder)) out.push(JsonValue::string(f));
    res->send(HttpResponse::json(200, out));
  });
  router.add("GET", "/embeddings", [&ctx](HttpRequest&, R res) {
    JsonValue out = JsonValue::array();
    for (const auto& f : ctx.runtime.host().list_files("embeddings")) {
      size_t dot = f.rfind('.');
      out.push(JsonValue::string(dot == std::string::npos ? f : f.substr(0, dot)));
    }
    res->send(HttpResponse::json(200, out));
  });
  router.add("POST", "/free", [&ctx](HttpRequest& req, R res) {
    JsonValue body = JsonValue::object();
    if (!req.body.empty())
      if (auto err = parse_json_body(req, &body, true)) return res->send(*err);
    auto flag = [&](const char* k) {
      const JsonValue* v = body.is_object() ? body.find(k) : nullptr;
      return v && v->is_bool() && v->as_bool();
    };
    if (flag("unload_models") || flag("free_memory")) ctx.queue.post_on_executor([&ctx] { ctx.runtime.clear_cache(); });
    res->send({200, "", "text/plain", {}});
  });
  add_comfy_job_routes(router, ctx);
}

}  // namespace vkdream::server
