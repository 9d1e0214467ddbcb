// ComfyUI's prompt history for port 8188: one entry per finished prompt, kept in memory up to a bound
// (oldest dropped first), in the shape of GET /history.
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "graph/json_value.h"
#include "job_queue.h"

namespace vkdream::server {

class History {
 public:
  explicit History(size_t max_items) : max_items_(max_items) {}

  void add(const Job& job);
  // {id: entry} of the newest max_items (all when 0), oldest first as ComfyUI returns them.
  graph::JsonValue all(size_t max_items = 0, size_t offset = 0) const;
  std::optional<graph::JsonValue> find(const std::string& id) const;  // the entry
  void remove(const std::string& id);
  void clear();
  size_t size() const;

  // [number, prompt_id, prompt, extra_data, outputs_to_execute]: ComfyUI's queue item.
  static graph::JsonValue queue_item(const Job& job);

 private:
  mutable std::mutex mu_;
  size_t max_items_;
  std::deque<std::pair<std::string, graph::JsonValue>> entries_;
};

}  // namespace vkdream::server
