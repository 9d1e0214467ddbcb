#include "serve_process.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <curl/curl.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace vkdream::server::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// n distinct loopback ports that were free a moment ago (all held open together, so they differ).
std::vector<int> free_ports(int n) {
  std::vector<int> socks, ports;
  for (int i = 0; i < n; ++i) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      ports.push_back(0);
    else
      ports.push_back(ntohs(a.sin_port));
    socks.push_back(s);
  }
  for (int s : socks)
    if (s >= 0) close(s);
  return ports;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The tiny SD1.5-layout checkpoint, written by `vkdream tiny-checkpoint` into the build tree once.
std::string tiny_checkpoint(std::string* error) {
  if (const char* env = std::getenv("VKDREAM_TINY_CHECKPOINT")) return env;
  std::string path = std::string(VKDREAM_TINY_DIR) + "/tiny-sd15.safetensors";
  if (fs::exists(path)) return path;
  CommandResult r = run_command({VKDREAM_BINARY, "tiny-checkpoint", VKDREAM_TINY_DIR}, 300);
  if (r.status != 0 || !fs::exists(path)) {
    *error = "vkdream tiny-checkpoint failed (" + std::to_string(r.status) + "): " + r.err;
    return "";
  }
  return path;
}

size_t curl_append(char* p, size_t s, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, s * n);
  return s * n;
}

}  // namespace

std::pair<long, std::string> http_get(const std::string& url, long timeout_ms) {
  std::string body;
  long status = 0;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  else status = -static_cast<long>(rc);
  curl_easy_cleanup(c);
  return {status, body};
}

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string p = (dir.empty() ? "." : dir) + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

CommandResult run_command(const std::vector<std::string>& argv, int timeout_s) {
  CommandResult r;
  int out[2], err[2];
  if (argv.empty() || pipe2(out, O_CLOEXEC) != 0) return r;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]), close(out[1]);
    return r;
  }
  std::vector<char*> args;  // built before fork(): the child of a threaded process may not allocate
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);  // its own group: a timeout kills the helpers it started too (Chromium's)
    dup2(out[1], 1);
    dup2(err[1], 2);
    int null_in = open("/dev/null", O_RDONLY);
    dup2(null_in, 0);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(out[0]), close(err[0]);
    return r;
  }
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  bool exited = false, timed_out = false;
  Clock::time_point exited_at;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    // Noticed, not reaped: the zombie keeps its pid (the group id) from being reused until the kill below.
    siginfo_t info{};
    if (!exited && waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
      exited = true, exited_at = Clock::now();
    // A helper that outlives the command may hold the pipes open: stop reading shortly after it exited.
    if (exited && Clock::now() - exited_at > std::chrono::milliseconds(500)) break;
    if (Clock::now() > deadline) {
      timed_out = true;
      break;
    }
    if (poll(fds, 2, 100) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) sinks[i]->append(buf, static_cast<size_t>(n));
      else if (n == 0 || errno != EINTR) close(fds[i].fd), fds[i].fd = -1;
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  kill(-pid, SIGKILL);  // the command on a timeout, else only what it left behind in its group
  waitpid(pid, &status, 0);
  r.status = timed_out ? 124 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

ServeProcess::~ServeProcess() {
  stop();
  std::error_code ec;
  if (!root_.empty()) fs::remove_all(root_, ec);
}

std::string ServeProcess::serving_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
std::string ServeProcess::comfy_url() const { return "http://127.0.0.1:" + std::to_string(comfy_port_); }
std::string ServeProcess::log() const { return root_.empty() ? "" : read_text(root_ + "/server.log"); }

bool ServeProcess::start(std::string* error, double timeout_s) {
  char tmpl[] = "/tmp/vkdream_serve_XXXXXX";
  if (!mkdtemp(tmpl)) return *error = "mkdtemp failed", false;
  root_ = tmpl;
  for (const char* d : {"input", "output", "temp", "models/checkpoints", "models/loras", "models/vae", "models/embeddings"})
    fs::create_directories(root_ + "/" + d);
  std::string ckpt = tiny_checkpoint(error);
  if (ckpt.empty()) return false;
  fs::create_symlink(ckpt, root_ + "/models/checkpoints/tiny-sd15.safetensors");

  // A port taken between free_ports() and the server's bind makes it exit at once: try fresh ports then.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<int> ports = free_ports(2);
    port_ = ports[0], comfy_port_ = ports[1];
    std::map<std::string, std::string> env;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      size_t eq = kv.find('=');
      if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const char* k : {"API_TOKEN", "WARMUP_PROMPT_FILE", "SWAGGER_UI_DIR", "MAX_QUEUE_DEPTH"}) env.erase(k);
    env["HOST"] = "127.0.0.1";
    env["PORT"] = std::to_string(port_);
    env["COMFYUI_PORT"] = std::to_string(comfy_port_);
    env["MODEL_DIR"] = root_ + "/models";
    env["INPUT_DIR"] = root_ + "/input";
    env["OUTPUT_DIR"] = root_ + "/output";
    env["TEMP_DIR"] = root_ + "/temp";
    env["WORKFLOW_DIR"] = std::string(VKDREAM_SOURCE_DIR) + "/workflows";
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);

    std::vector<char*> envp;  // built before fork(), as in run_command
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    char* args[] = {const_cast<char*>(VKDREAM_BINARY), const_cast<char*>("serve"), nullptr};
    std::string log_path = root_ + "/server.log";
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execve(VKDREAM_BINARY, args, envp.data());
      _exit(127);
    }
    if (pid_ < 0) return *error = "fork failed", false;

    auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
    bool died = false;
    while (Clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        died = true;
        break;
      }
      if (http_get(serving_url() + "/health", 1000).first == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!died) {
      stop();
      return *error = "vkdream serve was not healthy within " + std::to_string(timeout_s) + " s; its log:\n" + log(), false;
    }
    if (log().find("in use") == std::string::npos) break;  // a real failure, not a port race
  }
  *error = "vkdream serve exited during start-up; its log:\n" + log();
  return false;
}

int ServeProcess::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  pid_t done = 0;
  while ((done = waitpid(pid_, &status, WNOHANG)) == 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (done != pid_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace vkdream::server::test
