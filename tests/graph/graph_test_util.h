// Shared set-up for the graph tests: a host, a registry filled through the real plugin loader, and helpers to
// validate and run prompts written inline as JSON.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "graph/executor.h"
#include "graph/host.h"
#include "graph/node_registry.h"
#include "graph/plugin_loader.h"
#include "graph/prompt.h"
#include "graph/validate.h"

namespace vkdream::graph::test {

inline std::string plugin_path(const std::string& name) {
  return std::string(VKDREAM_GRAPH_PLUGIN_DIR) + "/" + name + ".so";
}

struct Runtime {
  Host host;
  NodeRegistry registry{host.c_host()};
  std::vector<std::string> log;
  std::unique_ptr<Executor> executor;

  explicit Runtime(const std::vector<std::string>& plugins = {"vkdtest_nodes"}) {
    host.set_log([this](int level, const std::string& src, const std::string& msg) {
      log.push_back(std::to_string(level) + " " + src + ": " + msg);
    });
    PluginLoader loader(registry, host);
    for (const auto& p : plugins) EXPECT_TRUE(loader.load_file(plugin_path(p))) << p;
    executor = std::make_unique<Executor>(registry, host);
  }

  ValidationResult validate(const std::string& prompt_json) {
    return validate_prompt(parse_prompt(prompt_json), registry);
  }

  struct Outcome {
    ValidationResult validation;
    ExecResult exec;
    std::vector<ExecEvent> events;
    std::vector<std::string> event_types() const {
      std::vector<std::string> t;
      for (const auto& e : events) t.push_back(e.type);
      return t;
    }
  };

  // Validates (must succeed) and executes; on_event may interrupt etc.
  Outcome run(const std::string& prompt_json, const std::function<void(const ExecEvent&)>& on_event = {}) {
    Outcome o;
    o.validation = validate(prompt_json);
    EXPECT_TRUE(o.validation.ok) << o.validation.error_response().dump();
    o.exec = executor->execute(o.validation.prompt, o.validation.good_outputs, "p1", [&](const ExecEvent& e) {
      o.events.push_back(e);
      if (on_event) on_event(e);
    });
    return o;
  }
};

inline std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace vkdream::graph::test
