#include "graph/output_cache.h"

namespace vkdream::graph {

Value::Value() {
  v_.struct_size = sizeof(VkdValue);
  v_.kind = VKD_VALUE_NONE;
}

Value::Value(const VkdValue& v, bool adopt) : Value() {
  v_.kind = v.kind;
  v_.i = v.i;
  v_.f = v.f;
  if (v.kind == VKD_VALUE_STRING) {
    s_.assign(v.s ? v.s : "", v.s ? v.s_len : 0);
    v_.s = s_.c_str();
    v_.s_len = s_.size();
  } else if (v.kind == VKD_VALUE_OBJECT) {
    v_.obj = v.obj;
    if (!v_.obj) v_.kind = VKD_VALUE_NONE;
    else if (!adopt && v_.obj->retain) v_.obj->retain(v_.obj);
  }
}

Value::Value(const Value& o) : Value(o.v_, false) {}

Value& Value::operator=(const Value& o) {
  if (this != &o) {
    Value copy(o);
    reset();
    v_ = copy.v_;
    s_ = copy.s_;
    if (v_.kind == VKD_VALUE_STRING) v_.s = s_.c_str();
    copy.v_.kind = VKD_VALUE_NONE;  // the reference moved here
    copy.v_.obj = nullptr;
  }
  return *this;
}

Value::~Value() { reset(); }

void Value::reset() {
  if (v_.kind == VKD_VALUE_OBJECT && v_.obj && v_.obj->release) v_.obj->release(v_.obj);
  v_.obj = nullptr;
  v_.kind = VKD_VALUE_NONE;
}

VkdValue Value::view() const { return v_; }

uint64_t Value::size_bytes() const {
  switch (v_.kind) {
    case VKD_VALUE_STRING: return 32 + s_.size();
    case VKD_VALUE_OBJECT: return 64 + (v_.obj ? v_.obj->size_bytes : 0);
    default: return 16;
  }
}

std::shared_ptr<const CachedOutputs> OutputCache::get(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.entry;
}

void OutputCache::put(const std::string& key, std::shared_ptr<const CachedOutputs> entry) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    bytes_ -= it->second.entry->size_bytes;
    lru_.erase(it->second.lru);
    map_.erase(it);
  }
  lru_.push_front(key);
  bytes_ += entry->size_bytes;
  map_.emplace(key, Slot{std::move(entry), lru_.begin()});
  trim();
}

void OutputCache::trim() {
  auto it = lru_.end();
  while (bytes_ > budget_ && it != lru_.begin()) {
    --it;
    if (pinned_.count(*it)) continue;
    auto m = map_.find(*it);
    bytes_ -= m->second.entry->size_bytes;
    map_.erase(m);
    it = lru_.erase(it);
    ++evictions_;
  }
}

void OutputCache::clear() {
  map_.clear();
  lru_.clear();
  bytes_ = 0;
}

}  // namespace vkdream::graph
