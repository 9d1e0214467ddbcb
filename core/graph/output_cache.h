// Node outputs kept between prompts, keyed by input signature (ComfyUI's default cache semantics), bounded by
// an estimated byte budget with least-recently-used eviction. Objects are held by reference (retain/release).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph/plugin_abi.h"

namespace vkdream::graph {

// An owned copy of a VkdValue: strings copied, objects retained (released on destruction).
class Value {
 public:
  Value();
  // adopt = true takes over the reference the producer handed out (execute outputs); false retains.
  Value(const VkdValue& v, bool adopt);
  Value(const Value& o);
  Value& operator=(const Value& o);
  ~Value();
  VkdValue view() const;  // borrowed view, valid while this Value lives
  uint64_t size_bytes() const;
  VkdValueKind kind() const { return v_.kind; }
  const VkdValue& raw() const { return v_; }

 private:
  void reset();
  VkdValue v_{};
  std::string s_;
};

struct CachedOutputs {
  std::vector<Value> outputs;
  std::string ui_json;  // the node's "executed" ui output, if any
  uint64_t size_bytes = 0;
};

class OutputCache {
 public:
  explicit OutputCache(uint64_t budget_bytes = 8ull << 30) : budget_(budget_bytes) {}
  // The entry, marked most recently used; null when absent.
  std::shared_ptr<const CachedOutputs> get(const std::string& key);
  bool contains(const std::string& key) const { return map_.count(key) != 0; }
  void put(const std::string& key, std::shared_ptr<const CachedOutputs> entry);
  // Evicts least recently used entries (never pinned ones) until within the budget.
  void trim();
  void pin(const std::string& key) { pinned_[key]++; }
  void unpin_all() { pinned_.clear(); }
  void clear();
  void set_budget(uint64_t bytes) { budget_ = bytes; trim(); }
  uint64_t budget() const { return budget_; }
  uint64_t bytes() const { return bytes_; }
  size_t size() const { return map_.size(); }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Slot {
    std::shared_ptr<const CachedOutputs> entry;
    std::list<std::string>::iterator lru;
  };
  uint64_t budget_;
  uint64_t bytes_ = 0;
  uint64_t evictions_ = 0;
  std::list<std::string> lru_;  // front = most recent
  std::unordered_map<std::string, Slot> map_;
  std::unordered_map<std::string, int> pinned_;
};

}  // namespace vkdream::graph
