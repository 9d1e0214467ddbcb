#include "serving_prompt.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "graph/prompt.h"
#include "ids.h"
#include "media/base64.h"
#include "media/image_input.h"
#include "net/fetch.h"
#include "net/webhook.h"
#include "route_util.h"
#include "safe_path.h"

namespace vkdream::server {

using graph::JsonValue;
namespace fs = std::filesystem;

namespace {

HttpResponse bad(const std::string& message, const std::string& location) {
  return HttpResponse::error(400, message, {{"location", JsonValue::string(location)}});
}

bool is_http_url(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }


// Resolves one `image` input to a file name in INPUT_DIR (writing fetched or decoded bytes there).
std::string resolve_image(ServerContext& ctx, PreparedPrompt& prep, const std::string& node_id,
                          const std::string& value) {
  media::ImageLimits limits;
  std::string bytes;
  if (is_http_url(value)) {
    net::FetchOptions fo;
    fo.policy = ctx.egress;
    fo.max_bytes = limits.max_encoded_bytes;
    try {
      bytes = net::fetch_image(value, fo).body;
    } catch (const net::FetchError& e) {
      if (e.blocked()) ctx.metrics.egress_blocked(e.reason());
      throw;
    }
  } else {
    media::ImageRef ref = media::classify_image_ref(value, limits);
    if (ref.kind == media::ImageRefKind::FileName) {
      std::string input_dir = ctx.directory("input");
      if (!resolve_in_folder(input_dir, "", value, true))
        throw std::runtime_error("no file named '" + value + "' in the input folder");
      return value;
    }
    bytes = std::move(ref.bytes);
  }
  media::ImageInfo info = media::probe_image(bytes, limits);  // size limits from the header, before decoding
  std::string input_dir = ctx.directory("input");
  if (input_dir.empty()) throw std::runtime_error("the server has no input folder");
  std::string name = prep.id + "_" + node_id + "." + media::image_file_extension(info.type);
  auto path = resolve_in_folder(input_dir, "", name, false);
  if (!path) throw std::runtime_error("cannot store the image");
  std::ofstream f(*path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot store the image");
  prep.temp_files.push_back(*path);
  return name;
}

}  // namespace

void cleanup_prepared(PreparedPrompt& prep) {
  std::error_code ec;
  for (const auto& f : prep.temp_files) fs::remove(f, ec);
  prep.temp_files.clear();
}

std::optional<HttpResponse> prepare_prompt(ServerContext& ctx, JsonValue body, PreparedPrompt* out) {
  auto started = std::chrono::steady_clock::now();
  PreparedPrompt& prep = *out;
  if (!body.is_object()) return bad("Request body must be a JSON object", "body");
  const JsonValue* prompt = body.find("prompt");
  if (!prompt || !prompt->is_object()) return bad("\"prompt\" is required and must be an object", "prompt");
  if (prompt->size() > 1000) return bad("Prompt has more than 1000 nodes", "prompt");

  if (const JsonValue* id = body.find("id")) {
    if (!id->is_string() || !is_valid_id(id->as_string()))
      return bad("\"id\" must be 1..128 characters of A-Z a-z 0-9 . _ : -", "id");
    prep.id = id->as_string();
  } else {
    prep.id = new_uuid();
  }
  for (const char* key : {"webhook_v2", "webhook"}) {
    const JsonValue* w = body.find(key);
    if (!w || w->is_null()) continue;
    if (!w->is_string() || !is_http_url(w->as_string())) return bad(std::string("\"") + key + "\" must be an http(s) URL", key);
    (std::string(key) == "webhook" ? prep.webhook : prep.webhook_v2) = w->as_string();
  }
  if (const JsonValue* co = body.find("convert_output"); co && !co->is_null()) {
    try {
      prep.convert_options = media::parse_convert_output(*co);
      prep.convert = true;
    } catch (const media::ConvertOptionsError& e) {
      return bad(e.what(), e.location());
    }
  }
  if (auto err = check_serving_limits(*prompt)) return err;

  prep.graph = *prompt;
  bool has_prefix = false;
  for (auto& [node_id, node] : prep.graph.members()) {
    JsonValue* inputs = node.is_object() ? node.find("inputs") : nullptr;
    if (!inputs || !inputs->is_object()) continue;
    if (JsonValue* fp = inputs->find("filename_prefix")) {
      has_prefix = true;
      if (fp->is_string()) *fp = JsonValue::string(prep.id + "_" + fp->as_string());
    }
  }
  if (!has_prefix)
    return bad("Prompt must contain a node with a \"filename_prefix\" input, such as \"SaveImage\"", "prompt");

  for (auto& [node_id, node] : prep.graph.members()) {
    JsonValue* inputs = node.is_object() ? node.find("inputs") : nullptr;
    JsonValue* image = inputs && inputs->is_object() ? inputs->find("image") : nullptr;
    if (!image || !image->is_string()) continue;
    try {
      *image = JsonValue::string(resolve_image(ctx, prep, node_id, image->as_string()));
    } catch (const std::exception& e) {
      cleanup_prepared(prep);
      return bad("Failed to download image for node " + node_id + ": " + e.what(),
                 "prompt." + node_id + ".inputs.image");
    }
  }

  try {
    prep.validated = ctx.runtime.validate(prep.graph, nullptr);
  } catch (const graph::PromptError& e) {
    cleanup_prepared(prep);
    return bad(e.what(), "prompt");
  }
  if (!prep.validated.ok) {
    cleanup_prepared(prep);
    const JsonValue* msg = prep.validated.error.find("message");
    const JsonValue* details = prep.validated.error.find("details");
    std::string text = msg && msg->is_string() ? msg->as_string() : "Prompt validation failed";
    if (details && details->is_string() && !details->as_string().empty()) text += ": " + details->as_string();
    return HttpResponse::error(400, text, {{"location", JsonValue::string("prompt")},
                                           {"node_errors", prep.validated.node_errors}});
  }
  prep.body = std::move(body);
  prep.preprocess_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return std::nullopt;
}

HttpResponse finished_response(ServerContext& ctx, PreparedPrompt& prep, Job& job) {
  auto post_start = std::chrono::steady_clock::now();
  cleanup_prepared(prep);
  if (job.state == JobState::Cancelled || job.state == JobState::Interrupted) {
    const std::string& r = job.cancel_reason;
    if (r == "deadline") return HttpResponse::error(504, "Request deadline exceeded; the prompt was cancelled");
    if (r == "shutdown") {
      HttpResponse resp = HttpResponse::error(503, "Server is shutting down; the prompt was cancelled");
      resp.headers.emplace_back("Connection", "close");
      return resp;
    }
    if (r == "client_disconnected") return HttpResponse::error(499, "Client disconnected");
    return HttpResponse::error(409, "Prompt execution interrupted");
  }
  if (job.state != JobState::Succeeded) {
    const JsonValue& e = job.result.error;
    auto str = [&](const char* k) {
      const JsonValue* v = e.find(k);
      return v && v->is_string() ? v->as_string() : std::string();
    };
    return HttpResponse::error(500, "Prompt execution failed: " + str("exception_message"),
                               {{"node_id", JsonValue::string(str("node_id"))},
                                {"node_type", JsonValue::string(str("node_type"))}});
  }

  JsonValue images = JsonValue::array(), filenames = JsonValue::array();
  std::string error;
  for (const auto& [node_id, ui] : job.result.ui_outputs.members()) {
    const JsonValue* list = ui.is_object() ? ui.find("images") : nullptr;
    if (!list || !list->is_array()) continue;
    for (const JsonValue& img : list->items()) {
      const JsonValue* fn = img.find("filename");
      const JsonValue* sub = img.find("subfolder");
      const JsonValue* type = img.find("type");
      if (!fn || !fn->is_string()) continue;
      std::string kind = type && type->is_string() ? type->as_string() : "output";
      if (kind != "output" && kind != "temp") continue;
      auto path = resolve_in_folder(ctx.directory(kind), sub && sub->is_string() ? sub->as_string() : "",
                                    fn->as_string(), true);
      auto bytes = path ? read_file(*path) : std::nullopt;
      if (!bytes) {
        bool cached = std::find(job.result.cached.begin(), job.result.cached.end(), node_id) != job.result.cached.end();
        // An identical prompt (same id) that ran before is served from the node cache, SaveImage included,
        // and the file it names was deleted after that earlier request.
        error = cached ? "output node " + node_id + " was served from the cache (an identical prompt with the same id "
                         "ran before); send a new id"
                       : "output image " + fn->as_string() + " could not be read";
        continue;
      }
      std::error_code ec;
      fs::remove(*path, ec);  // stateless: outputs live only until read back
      std::string name = fn->as_string();
      if (prep.convert) {
        try {
          auto converted = media::convert_image(*bytes, prep.convert_options);
          bytes = std::string(converted.begin(), converted.end());
          size_t dot = name.rfind('.');
          name = (dot == std::string::npos ? name : name.substr(0, dot)) + "." +
                 media::output_file_extension(prep.convert_options.format);
        } catch (const std::exception& e) {
          error = std::string("output conversion failed: ") + e.what();
          continue;
        }
      }
      images.push(JsonValue::string(media::base64_encode(*bytes)));
      filenames.push(JsonValue::string(name));
    }
  }
  if (!error.empty()) return HttpResponse::error(500, "Prompt execution failed: " + error);

  JsonValue nodes = JsonValue::object();
  for (const auto& [id, ms] : job.node_start_ms)
    nodes.set(id, JsonValue::object({{"start", JsonValue::integer(static_cast<int64_t>(ms))}}));
  double post_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - post_start).count();
  double exec_ms = job.exec_ms();
  JsonValue stats = JsonValue::object(
      {{"preprocess_time", JsonValue::number(prep.preprocess_ms)},
       {"comfy_execution", JsonValue::object({{"start", JsonValue::integer(static_cast<int64_t>(job.wall_start_ms))},
                                              {"end", JsonValue::integer(static_cast<int64_t>(job.wall_end_ms))},
                                              {"duration", JsonValue::number(exec_ms)},
                                              {"nodes", nodes}})},
       {"postprocess_time", JsonValue::number(post_ms)},
       {"total_time", JsonValue::number(prep.preprocess_ms + job.queue_ms() + exec_ms + post_ms)}});
  JsonValue out = prep.body;
  out.set("id", JsonValue::string(prep.id));
  out.set("prompt", prep.validated.prompt.to_json());
  out.set("images", images);
  out.set("filenames", filenames);
  out.set("stats", stats);
  return HttpResponse::json(200, out);
}

std::vector<std::string> webhook_bodies(const PreparedPrompt& prep, const HttpResponse& response, bool v2) {
  std::string ts = net::iso8601_utc(std::chrono::system_clock::now());
  JsonValue parsed;
  try {
    parsed = graph::parse_json(response.body, {256, 1u << 30});
  } catch (...) {
    parsed = JsonValue::object();
  }
  std::string error;
  if (response.status != 200) {
    const JsonValue* e = parsed.find("error");
    error = e && e->is_string() ? e->as_string() : "failed";
  }
  const char* reason = response.status == 503 ? "shutdown" : response.status == 504 ? "deadline"
                       : response.status == 409 ? "interrupted" : response.status >= 500 ? "execution_error" : "";
  std::vector<std::string> out;
  JsonValue prompt = prep.validated.prompt.to_json();
  if (v2) {
    JsonValue b = JsonValue::object();
    if (response.status == 200) {
      b.set("type", JsonValue::string("prompt.complete"));
      b.set("timestamp", JsonValue::string(ts));
      for (const auto& m : parsed.members()) b.set(m.first, m.second);
    } else {
      b = JsonValue::object({{"type", JsonValue::string("prompt.failed")},
                             {"timestamp", JsonValue::string(ts)},
                             {"id", JsonValue::string(prep.id)},
                             {"prompt", prompt},
                             {"error", JsonValue::string(error)},
                             {"reason", JsonValue::string(reason)}});
    }
    out.push_back(b.dump());
    return out;
  }
  if (response.status != 200) {
    out.push_back(JsonValue::object({{"event", JsonValue::string("prompt.failed")},
                                     {"id", JsonValue::string(prep.id)},
                                     {"prompt", prompt},
                                     {"error", JsonValue::string(error)}})
                      .dump());
    return out;
  }
  const JsonValue* images = parsed.find("images");
  const JsonValue* filenames = parsed.find("filenames");
  const JsonValue* stats = parsed.find("stats");
  for (size_t i = 0; images && filenames && i < images->size(); ++i) {
    out.push_back(JsonValue::object({{"event", JsonValue::string("output.complete")},
                                     {"image", images->items()[i]},
                                     {"id", JsonValue::string(prep.id)},
                                     {"filename", filenames->items()[i]},
                                     {"prompt", prompt},
                                     {"stats", stats ? *stats : JsonValue::object()}})
                      .dump());
  }
  return out;
}

}  // namespace vkdream::server
