// Server settings: api.md's and reliability.md's environment variables with their defaults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "vkdream/version.h"

namespace vkdream::server {

struct ServerConfig {
  std::string host = "::";
  int port = 3000;          // serving API; 0 = an ephemeral port (tests)
  int comfyui_port = 8188;  // ComfyUI API; -1 disables (COMFYUI_PORT=0 in the environment)
  std::string model_dir, input_dir, output_dir, temp_dir, workflow_dir;
  std::string warmup_prompt_file;
  std::string swagger_ui_dir;  // swagger-ui-dist's files; empty: looked up next to the binary / repo
  std::string api_token;
  std::string webhook_secret;
  int webhook_retries = 3;
  std::string log_level = "info";
  size_t max_body_bytes = 100u << 20;
  size_t max_queue_depth = 8;        // waiting jobs (plus one running)
  double request_timeout_s = 600;    // per-request deadline (504)
  double drain_timeout_s = 25;       // SIGTERM: how long running + queued jobs may finish
  double stall_timeout_s = 900;      // /health turns 500 when the executor shows no heartbeat this long
  double header_timeout_s = 10, body_timeout_s = 30;
  int http_threads = 2;              // Pistache reactor threads per listener
  size_t history_max_items = 1000;   // ComfyUI history kept in memory
  std::string version = VKD_VERSION_STRING;

  // Reads the environment (unset variables keep the defaults above). Throws std::invalid_argument on a value
  // that does not parse.
  static ServerConfig from_env();
};

}  // namespace vkdream::server
