#include "history.h"

namespace vkdream::server {

using graph::JsonValue;

JsonValue History::queue_item(const Job& job) {
  JsonValue outputs = JsonValue::array();
  for (const auto& o : job.validated.good_outputs) outputs.push(JsonValue::string(o));
  return JsonValue::array({JsonValue::integer(job.number), JsonValue::string(job.id), job.validated.prompt.to_json(),
                           job.extra_data, outputs});
}

void History::add(const Job& job) {
  bool success = job.state == JobState::Succeeded;
  JsonValue messages = JsonValue::array();
  for (const auto& [type, data] : job.messages) messages.push(JsonValue::array({JsonValue::string(type), data}));
  JsonValue status = JsonValue::object({{"status_str", JsonValue::string(success ? "success" : "error")},
                                        {"completed", JsonValue::boolean(success)},
                                        {"messages", messages}});
  JsonValue meta = JsonValue::object();
  for (const auto& m : job.result.ui_outputs.members())
    meta.set(m.first, JsonValue::object({{"node_id", JsonValue::string(m.first)},
                                         {"display_node", JsonValue::string(m.first)}}));
  JsonValue entry = JsonValue::object({{"prompt", queue_item(job)},
                                       {"outputs", job.result.ui_outputs},
                                       {"status", status},
                                       {"meta", meta}});
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->first == job.id) {
      entries_.erase(it);
      break;
    }
  entries_.emplace_back(job.id, std::move(entry));
  while (entries_.size() > max_items_) entries_.pop_front();
}

JsonValue History::all(size_t max_items, size_t offset) const {
  std::lock_guard<std::mutex> lock(mu_);
  JsonValue out = JsonValue::object();
  size_t n = entries_.size();
  size_t end = offset < n ? n - offset : 0;
  size_t begin = max_items && max_items < end ? end - max_items : 0;
  for (size_t i = begin; i < end; ++i) out.set(entries_[i].first, entries_[i].second);
  return out;
}

std::optional<JsonValue> History::find(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [k, v] : entries_)
    if (k == id) return v;
  return std::nullopt;
}

void History::remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->first == id) {
      entries_.erase(it);
      return;
    }
}

void History::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
}

size_t History::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace vkdream::server
