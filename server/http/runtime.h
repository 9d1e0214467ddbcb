// What the HTTP server needs from the graph runtime, as an interface: serve_main adapts graph::Engine to it,
// and tests can run the server on any registry + executor (the test node plugins) without a GPU.
#pragma once

#include <string>
#include <vector>

#include "graph/executor.h"
#include "graph/host.h"
#include "graph/json_value.h"
#include "graph/validate.h"

namespace vkdream::server {

class Runtime {
 public:
  virtual ~Runtime() = default;
  // Thread-safe; may run while a prompt executes.
  virtual graph::ValidationResult validate(const graph::JsonValue& graph,
                                           const std::vector<std::string>* partial_targets) = 0;
  // Called from the executor thread only, one prompt at a time.
  virtual graph::ExecResult execute(const graph::ValidationResult& validated, const std::string& prompt_id,
                                    const graph::EventFn& on_event) = 0;
  // The same with the request's extra_data (ComfyUI's extra_pnginfo for SaveImage); a runtime without a use
  // for it runs the prompt as above.
  virtual graph::ExecResult execute(const graph::ValidationResult& validated, const std::string& prompt_id,
                                    const graph::EventFn& on_event, const graph::JsonValue& extra_data) {
    return execute(validated, prompt_id, on_event);
  }
  // Thread-safe: stops the running prompt at its next node or sampler step.
  virtual void interrupt() = 0;
  virtual graph::JsonValue object_info() = 0;
  virtual graph::JsonValue object_info(const std::string& class_type) = 0;  // null when unknown
  virtual graph::JsonValue device_info() = 0;  // null without a device
  virtual void clear_cache() = 0;
  virtual graph::Host& host() = 0;
};

}  // namespace vkdream::server
