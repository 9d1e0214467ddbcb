#include "config.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace vkdream::server {
namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

void read_string(const char* name, std::string& out) {
  if (const char* v = env(name)) out = v;
}

template <class T>
void read_number(const char* name, T& out, double lo, double hi) {
  const char* v = env(name);
  if (!v) return;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (end == v || *end != '\0' || !(d >= lo && d <= hi))
    throw std::invalid_argument(std::string(name) + "=" + v + " is not a number in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "]");
  out = static_cast<T>(d);
}

}  // namespace

ServerConfig ServerConfig::from_env() {
  ServerConfig c;
  read_string("HOST", c.host);
  read_number("PORT", c.port, 0, 65535);
  read_number("COMFYUI_PORT", c.comfyui_port, 0, 65535);
  if (c.comfyui_port == 0) c.comfyui_port = -1;
  read_string("MODEL_DIR", c.model_dir);
  read_string("INPUT_DIR", c.input_dir);
  read_string("OUTPUT_DIR", c.output_dir);
  read_string("TEMP_DIR", c.temp_dir);
  read_string("WORKFLOW_DIR", c.workflow_dir);
  read_string("WARMUP_PROMPT_FILE", c.warmup_prompt_file);
  read_string("SWAGGER_UI_DIR", c.swagger_ui_dir);
  read_string("API_TOKEN", c.api_token);
  read_string("WEBHOOK_SECRET", c.webhook_secret);
  read_number("PROMPT_WEBHOOK_RETRIES", c.webhook_retries, 1, 100);
  read_string("LOG_LEVEL", c.log_level);
  double body_mb = static_cast<double>(c.max_body_bytes >> 20);
  read_number("MAX_BODY_SIZE_MB", body_mb, 0.001, 4095);
  c.max_body_bytes = static_cast<size_t>(body_mb * (1 << 20));
  read_number("MAX_QUEUE_DEPTH", c.max_queue_depth, 0, 1e6);
  if (c.max_queue_depth == 0) c.max_queue_depth = 8;  // 0 = the default bound, never unbounded
  read_number("REQUEST_TIMEOUT_S", c.request_timeout_s, 0.001, 1e7);
  read_number("DRAIN_TIMEOUT_S", c.drain_timeout_s, 0, 1e6);
  read_number("EXECUTOR_STALL_TIMEOUT_S", c.stall_timeout_s, 0.001, 1e7);
  read_number("HTTP_THREADS", c.http_threads, 1, 256);
  return c;
}

}  // namespace vkdream::server
