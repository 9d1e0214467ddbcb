#include "comfy_jobs.h"

#include <algorithm>

namespace vkdream::server {

using graph::JsonValue;

namespace {

const JsonValue* member(const JsonValue& v, const char* k) { return v.is_object() ? v.find(k) : nullptr; }

JsonValue queue_job(const Job& j, const char* status) {
  JsonValue out = JsonValue::object({{"id", JsonValue::string(j.id)}, {"status", JsonValue::string(status)},
                                     {"priority", JsonValue::integer(j.number)}});
  if (const JsonValue* t = member(j.extra_data, "create_time")) out.set("create_time", *t);
  out.set("outputs_count", JsonValue::integer(0));
  return out;
}

JsonValue history_job(const std::string& id, const JsonValue& entry, bool full) {
  const JsonValue* prompt = member(entry, "prompt");
  const JsonValue* status = member(entry, "status");
  const JsonValue* status_str = status ? member(*status, "status_str") : nullptr;
  bool failed = status_str && status_str->is_string() && status_str->as_string() == "error";
  JsonValue out = JsonValue::object({{"id", JsonValue::string(id)},
                                     {"status", JsonValue::string(failed ? "failed" : "completed")}});
  if (prompt && prompt->is_array() && prompt->size() >= 4) {
    out.set("priority", prompt->items()[0]);
    if (const JsonValue* t = member(prompt->items()[3], "create_time")) out.set("create_time", *t);
  }
  const JsonValue* messages = status ? member(*status, "messages") : nullptr;
  for (size_t i = 0; messages && messages->is_array() && i < messages->size(); ++i) {
    const JsonValue& m = messages->items()[i];
    if (!m.is_array() || m.size() < 2 || !m.items()[0].is_string()) continue;
    const std::string& type = m.items()[0].as_string();
    const JsonValue* ts = member(m.items()[1], "timestamp");
    if (type == "execution_start" && ts) out.set("execution_start_time", *ts);
    if ((type == "execution_success" || type == "execution_error" || type == "execution_interrupted") && ts)
      out.set("execution_end_time", *ts);
    if (type == "execution_error") out.set("execution_error", m.items()[1]);
  }
  int64_t count = 0;
  JsonValue preview;
  if (const JsonValue* outputs = member(entry, "outputs"))
    for (const auto& [node_id, node_out] : outputs->members())
      for (const auto& [media, items] : node_out.members()) {
        if (media == "animated" || !items.is_array()) continue;
        for (const auto& item : items.items()) {
          if (!item.is_object()) continue;
          ++count;
          if (preview.is_null() && media == "images") {
            preview = item;
            preview.set("nodeId", JsonValue::string(node_id));
            preview.set("mediaType", JsonValue::string(media));
          }
        }
      }
  out.set("outputs_count", JsonValue::integer(count));
  if (!preview.is_null()) out.set("preview_output", preview);
  if (full) {
    if (const JsonValue* outputs = member(entry, "outputs")) out.set("outputs", *outputs);
    if (status) out.set("execution_status", *status);
    if (prompt && prompt->is_array() && prompt->size() >= 4)
      out.set("workflow", JsonValue::object({{"prompt", prompt->items()[2]}, {"extra_data", prompt->items()[3]}}));
  }
  return out;
}

}  // namespace

void add_comfy_job_routes(Router& router, ServerContext& ctx) {
  router.add("GET", "/jobs", [&ctx](HttpRequest& req, const std::shared_ptr<Responder>& res) {
    auto q = [&](const char* k, const std::string& def) {
      auto it = req.query.find(k);
      return it == req.query.end() ? def : it->second;
    };
    std::string statuses = q("status", "pending,in_progress,completed,failed");
    auto wants = [&](const char* s) { return ("," + statuses + ",").find(std::string(",") + s + ",") != std::string::npos; };
    long limit = -1, offset = 0;
    try {
      if (req.query.count("limit")) limit = std::stol(q("limit", "-1"));
      offset = std::stol(q("offset", "0"));
    } catch (...) {
      return res->send(HttpResponse::error(400, "limit and offset must be integers"));
    }
    if (offset < 0 || (req.query.count("limit") && limit < 1))
      return res->send(HttpResponse::error(400, "limit must be positive and offset non-negative"));
    std::vector<JsonValue> jobs;
    QueueSnapshot snap = ctx.queue.snapshot();
    if (snap.running && wants("in_progress")) jobs.push_back(queue_job(*snap.running, "in_progress"));
    if (wants("pending"))
      for (const auto& j : snap.pending) jobs.push_back(queue_job(*j, "pending"));
    JsonValue history = ctx.history.all();
    for (const auto& [id, entry] : history.members()) {
      JsonValue job = history_job(id, entry, false);
      if (wants(job.find("status")->as_string().c_str())) jobs.push_back(std::move(job));
    }
    bool asc = q("sort_order", "desc") == "asc";
    std::stable_sort(jobs.begin(), jobs.end(), [asc](const JsonValue& a, const JsonValue& b) {
      auto t = [](const JsonValue& j) {
        const JsonValue* c = j.find("create_time");
        return c && c->is_int() ? static_cast<int64_t>(c->as_int()) : int64_t{0};
      };
      return asc ? t(a) < t(b) : t(a) > t(b);
    });
    size_t total = jobs.size();
    JsonValue list = JsonValue::array();
    for (size_t i = static_cast<size_t>(offset); i < total && (limit < 0 || list.size() < static_cast<size_t>(limit)); ++i)
      list.push(jobs[i]);
    bool has_more = static_cast<size_t>(offset) + list.size() < total;
    res->send(HttpResponse::json(200, JsonValue::object(
        {{"jobs", list},
         {"pagination", JsonValue::object({{"offset", JsonValue::integer(offset)},
                                           {"limit", limit < 0 ? JsonValue() : JsonValue::integer(limit)},
                                           {"total", JsonValue::integer(static_cast<int64_t>(total))},
                                           {"has_more", JsonValue::boolean(has_more)}})}})));
  });
  router.add("GET", "/jobs/{id}", [&ctx](HttpRequest& req, const std::shared_ptr<Responder>& res) {
    const std::string& id = req.params["id"];
    if (auto entry = ctx.history.find(id)) return res->send(HttpResponse::json(200, history_job(id, *entry, true)));
    QueueSnapshot snap = ctx.queue.snapshot();
    if (snap.running && snap.running->id == id) return res->send(HttpResponse::json(200, queue_job(*snap.running, "in_progress")));
    for (const auto& j : snap.pending)
      if (j->id == id) return res->send(HttpResponse::json(200, queue_job(*j, "pending")));
    res->send(HttpResponse::error(404, "Job not found"));
  });
}

}  // namespace vkdream::server
