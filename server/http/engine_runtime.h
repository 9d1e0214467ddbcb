// The server's Runtime on top of graph::Engine (the production path; tests may use their own Runtime).
#pragma once

#include "graph/engine.h"
#include "runtime.h"

namespace vkdream::server {

class EngineRuntime : public Runtime {
 public:
  explicit EngineRuntime(graph::Engine& engine) : engine_(engine) {}

  graph::ValidationResult validate(const graph::JsonValue& graph, const std::vector<std::string>* targets) override {
    return engine_.validate(graph, targets);
  }
  graph::ExecResult execute(const graph::ValidationResult& v, const std::string& id,
                            const graph::EventFn& on_event) override {
    return engine_.execute(v, id, on_event);
  }
  graph::ExecResult execute(const graph::ValidationResult& v, const std::string& id, const graph::EventFn& on_event,
                            const graph::JsonValue& extra_data) override {
    return engine_.execute(v, id, on_event, extra_data);
  }
  void interrupt() override { engine_.interrupt(); }
  graph::JsonValue object_info() override { return engine_.object_info(); }
  graph::JsonValue object_info(const std::string& class_type) override {
    const graph::NodeClass* nc = engine_.registry().find(class_type);
    return nc ? engine_.registry().object_info(*nc) : graph::JsonValue();
  }
  graph::JsonValue device_info() override { return engine_.device_info(); }
  void clear_cache() override { engine_.clear_cache(); }
  graph::Host& host() override { return engine_.host(); }

 private:
  graph::Engine& engine_;
};

}  // namespace vkdream::server
