// `vkdream serve`: settings from the environment (api.md) with command-line flags that override them, the
// Engine and its plugins, both listeners, the warm-up prompt, then signals: the first SIGTERM/SIGINT drains
// (reliability.md) and exits 0, a second exits at once.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <pthread.h>
#include <string>
#include <thread>
#include <unistd.h>

#include "engine_runtime.h"
#include "server.h"

namespace vkdream::server {

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: vkdream serve [--host H] [--port N] [--comfyui-port N] [--models DIR] [--input DIR]\n"
               "                     [--output DIR] [--temp DIR] [--workflows DIR] [--warmup FILE] [--plugins P]...\n"
               "Environment: PORT HOST COMFYUI_PORT MODEL_DIR INPUT_DIR OUTPUT_DIR WORKFLOW_DIR WARMUP_PROMPT_FILE\n"
               "  MAX_BODY_SIZE_MB MAX_QUEUE_DEPTH REQUEST_TIMEOUT_S DRAIN_TIMEOUT_S API_TOKEN WEBHOOK_SECRET\n"
               "  PROMPT_WEBHOOK_RETRIES LOG_LEVEL EGRESS_ALLOW VKDREAM_PLUGIN_PATH (see docs/api.md)\n");
}

void log_line(const char* level, const std::string& msg) {
  std::string escaped;
  for (char c : msg) {
    if (c == '"' || c == '\\') escaped += '\\';
    if (c == '\n') { escaped += "\\n"; continue; }
    escaped += c;
  }
  std::fprintf(stderr, "{\"level\":\"%s\",\"msg\":\"%s\"}\n", level, escaped.c_str());
}

}  // namespace

int serve_main(int argc, char** argv) {
  // Signals are taken by sigwait on this thread only: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  ServerConfig config;
  try {
    config = ServerConfig::from_env();
  } catch (const std::exception& e) {
    log_line("error", e.what());
    return 2;
  }
  graph::EngineOptions eo;
  eo.rerun_output_nodes = true;  // the serving API sends the files and removes them: every prompt writes its own
  auto env_or = [](const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
  };
  std::string models = env_or("MODEL_DIR", "models"), input = env_or("INPUT_DIR", "input"),
              output = env_or("OUTPUT_DIR", "output"), temp = env_or("TEMP_DIR", "temp");
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--host") config.host = next();
      else if (a == "--port") config.port = std::stoi(next());
      else if (a == "--comfyui-port") {
        int p = std::stoi(next());
        config.comfyui_port = p == 0 ? -1 : p;
      }
      else if (a == "--models") models = next();
      else if (a == "--input") input = next();
      else if (a == "--output" || a == "--out") output = next();
      else if (a == "--temp") temp = next();
      else if (a == "--workflows") config.workflow_dir = next();
      else if (a == "--warmup") config.warmup_prompt_file = next();
      else if (a == "--plugins") eo.plugin_paths.push_back(next());
      else if (a == "-h" || a == "--help") return usage(), 0;
      else throw std::invalid_argument("unknown option " + a);
    } catch (const std::exception& e) {
      log_line("error", std::string("vkdream serve: ") + e.what());
      usage();
      return 2;
    }
  }
  std::error_code ec;
  for (const auto& d : {input, output, temp}) std::filesystem::create_directories(d, ec);
  eo.directories = {{"models", models}, {"input", input}, {"output", output}, {"temp", temp}};
  eo.log = [](int level, const std::string& source, const std::string& message) {
    log_line(level >= VKD_LOG_ERROR ? "error" : level >= VKD_LOG_WARNING ? "warn" : "info", source + ": " + message);
  };

  try {
    graph::Engine engine(eo);
    for (const auto& e : engine.plugin_errors()) log_line("warn", "plugin skipped: " + e);
    EngineRuntime runtime(engine);
    Server server(config, runtime);
    server.start();
    log_line("info", "serving API on port " + std::to_string(server.port()) +
                         (server.comfyui_port() ? ", ComfyUI API on port " + std::to_string(server.comfyui_port()) : ""));
    // The warm-up runs while the listeners answer /health with 500; a signal during it still drains.
    std::thread warm([&] {
      try {
        server.warm_up();
        log_line("info", "warm-up complete; healthy");
      } catch (const std::exception& e) {
        log_line("error", std::string("warm-up failed: ") + e.what());
        std::fflush(stderr);
        _exit(3);
      }
    });
    warm.detach();
    int sig = 0;
    sigwait(&signals, &sig);
    log_line("info", std::string("received ") + strsignal(sig) + "; draining");
    std::thread second([&] {
      int s2 = 0;
      sigwait(&signals, &s2);
      log_line("warn", "second signal; exiting now");
      std::fflush(stderr);
      _exit(1);
    });
    second.detach();
    bool clean = server.drain();
    log_line("info", clean ? "drained; exiting" : "drain timeout: remaining jobs cancelled; exiting");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the reactors flush the last responses
    server.stop();
    std::fflush(stderr);
    _exit(0);  // skip destructors of a device that may still be busy in a cancelled node
  } catch (const std::exception& e) {
    log_line("error", std::string("vkdream serve: ") + e.what());
    return 1;
  }
}

}  // namespace vkdream::server
