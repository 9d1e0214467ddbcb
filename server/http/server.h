// The vkdream HTTP server: the serving API (PORT) and ComfyUI's API (COMFYUI_PORT) in one process, sharing
// one executor. Every request passes one dispatcher: request id, bearer auth, routing, one JSON log line and
// the request metrics.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config.h"
#include "runtime.h"

namespace vkdream::server {

struct ServerContext;

class Server {
 public:
  Server(ServerConfig config, Runtime& runtime);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds both listeners and starts serving; /health answers 500 until warm_up() (or mark_warm()).
  void start();
  // Runs WARMUP_PROMPT_FILE (when set) on the executor; throws std::runtime_error when it fails. Then warm.
  void warm_up();
  void mark_warm();

  int port() const;         // the serving API's bound port
  int comfyui_port() const;  // 0 when disabled

  // SIGTERM: /ready turns 503 and new work 503 at once; running and queued jobs get DRAIN_TIMEOUT_S, then
  // are cancelled. Returns when the executor is idle (true if nothing had to be cancelled).
  bool drain();
  void stop();  // listeners down (after drain)

  ServerContext& context();
  // Where the per-request JSON log lines go (default: stderr). Set before start().
  void set_log_sink(std::function<void(const std::string&)> sink);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `vkdream serve`: configuration from the environment and flags, the Engine, warm-up, signals (first SIGTERM
// drains and exits 0, a second exits at once).
int serve_main(int argc, char** argv);

}  // namespace vkdream::server
