// What the route handlers of both ports share: settings, runtime, executor queue, metrics, history, templates
// and the server's life-cycle flags.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "config.h"
#include "history.h"
#include "job_queue.h"
#include "metrics.h"
#include "runtime.h"
#include "net/egress_policy.h"
#include "webhook_dispatcher.h"
#include "workflows/workflow_template.h"

namespace vkdream::server {

struct ServerContext {
  ServerConfig config;
  Runtime& runtime;
  Metrics metrics;
  History history;
  net::EgressPolicy egress;  // EGRESS_ALLOW as it was at start-up, for image URLs and webhooks alike
  WebhookDispatcher webhooks;
  workflows::LoadedWorkflows workflows;
  workflows::DynamicValues dynamic_values;
  std::atomic<bool> warm{false};       // the warm-up prompt completed
  std::atomic<int64_t> next_number{0}; // ComfyUI queue numbers
  std::string warmup_checkpoint;       // ckpt_name of the warm-up prompt (template default)
  JobQueue queue;                      // last: destroyed first, while what its callbacks use still lives

  ServerContext(ServerConfig cfg, Runtime& rt);

  bool draining() const { return queue.draining(); }
  bool healthy() const;  // warm, executor alive, not stalled
  // Input/output folders as the runtime's host knows them.
  std::string directory(const std::string& kind) const { return runtime.host().directory(kind); }
};

}  // namespace vkdream::server
