// `vkdream serve` as a child process, for end-to-end tests that drive it with outside programs (a ComfyUI client
// in Node.js, headless Chromium): a fresh MODEL_DIR holding the tiny test checkpoint, free loopback ports, the
// repo's workflow templates, the server's stderr in a log file, SIGTERM at the end.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace vkdream::server::test {

class ServeProcess {
 public:
  ServeProcess() = default;
  ~ServeProcess();  // stop(), then removes the temporary directories
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Starts the server and waits (up to timeout_s) until GET /health answers 200. On failure returns false with
  // the reason and the server's log in *error.
  bool start(std::string* error, double timeout_s = 45);
  // SIGTERM (the server drains and exits 0), SIGKILL after 10 s. Returns the exit status, or -1 if none ran.
  int stop();

  std::string serving_url() const;  // http://127.0.0.1:<PORT>
  std::string comfy_url() const;    // http://127.0.0.1:<COMFYUI_PORT>
  std::string log() const;          // the server's stderr so far
  const std::string& root() const { return root_; }

 private:
  std::string root_;  // input/, output/, temp/, models/checkpoints/, server.log
  pid_t pid_ = -1;
  int port_ = 0, comfy_port_ = 0;
};

struct CommandResult {
  int status = -1;     // exit code; 124 when the timeout killed it; -1 when it could not run
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs argv[0] with arguments (no shell), killed after timeout_s.
CommandResult run_command(const std::vector<std::string>& argv, int timeout_s);

// The first executable named `name` on PATH, or "" when there is none.
std::string find_program(const std::string& name);

// GET url with libcurl: {status (negative curl error), body}.
std::pair<long, std::string> http_get(const std::string& url, long timeout_ms = 5000);

}  // namespace vkdream::server::test
