// The single executor: a bounded FIFO of validated prompts run one at a time on one thread (HTTP threads never
// run inference), plus a supervisor that cancels jobs whose client went away or whose deadline passed, and the
// drain used by SIGTERM.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "graph/executor.h"
#include "graph/validate.h"
#include "runtime.h"

namespace vkdream::server {

using Clock = std::chrono::steady_clock;

enum class JobState { Queued, Running, Succeeded, Failed, Interrupted, Cancelled };

struct Job {
  std::string id;      // the prompt id
  int64_t number = 0;  // ComfyUI's queue number
  graph::ValidationResult validated;
  graph::JsonValue extra_data = graph::JsonValue::object();  // ComfyUI: client_id etc.
  Clock::time_point enqueued{}, started{}, finished{};
  Clock::time_point deadline = Clock::time_point::max();
  double wall_start_ms = 0, wall_end_ms = 0;  // unix milliseconds (stats)
  std::map<std::string, double> node_start_ms;  // node id -> unix ms when it began
  std::vector<std::pair<std::string, graph::JsonValue>> messages;  // ComfyUI history "messages"

  // Polled by the supervisor while the job waits or runs: true cancels it with reason "client_disconnected".
  std::function<bool()> client_gone;
  // Called exactly once, on the executor or supervisor thread (or the thread that cancels it), when the job
  // reaches a final state.
  std::function<void(Job&)> on_done;
  // Each progress event (executor thread).
  std::function<void(const graph::ExecEvent&)> on_event;

  JobState state = JobState::Queued;
  std::string cancel_reason;  // "user", "client_disconnected", "deadline", "shutdown"
  graph::ExecResult result;

  double queue_ms() const;
  double exec_ms() const;
};

struct QueueSnapshot {
  std::shared_ptr<Job> running;
  std::vector<std::shared_ptr<Job>> pending;
};

class JobQueue {
 public:
  enum class Submit { Accepted, Full, Draining };

  JobQueue(Runtime& runtime, size_t max_depth);
  ~JobQueue();  // stops the threads; pending jobs are cancelled with reason "shutdown"

  // Never blocks on inference. Full when max_depth jobs already wait.
  Submit submit(std::shared_ptr<Job> job, bool front = false);

  // Cancels a queued job (removed, on_done called) or interrupts the running one. False when unknown/finished.
  bool cancel(const std::string& id, const std::string& reason);
  // Interrupts whatever runs now (ComfyUI /interrupt without an id); false when idle.
  bool interrupt_running(const std::string& reason);
  // Cancels every waiting job; returns how many.
  size_t clear_pending(const std::string& reason);

  // Stops accepting work (submit answers Draining), waits up to timeout for queued and running jobs, then
  // cancels what is left with reason "shutdown" and waits for the running one to stop. True if all finished.
  bool drain(std::chrono::milliseconds timeout);
  bool draining() const { return draining_.load(); }

  QueueSnapshot snapshot() const;
  size_t depth() const;   // waiting jobs
  bool busy() const;      // a job runs
  size_t max_depth() const { return max_depth_; }
  // Seconds since the executor last showed progress (idle counts as progress).
  double seconds_since_heartbeat() const;
  bool executor_alive() const { return executor_alive_.load(); }

  // Runs fn on the executor thread between jobs and waits for it (the start-up warm-up).
  void run_on_executor(std::function<void()> fn);
  // The same without waiting (POST /free).
  void post_on_executor(std::function<void()> fn);

 private:
  void executor_loop();
  void supervisor_loop();
  void finish(Job& job);
  void beat();

  Runtime& runtime_;
  size_t max_depth_;
  mutable std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::deque<std::shared_ptr<Job>> pending_;
  std::deque<std::function<void()>> tasks_;
  std::shared_ptr<Job> running_;
  std::atomic<bool> draining_{false}, stop_{false}, executor_alive_{true};
  std::atomic<int64_t> heartbeat_ns_{0};
  std::thread executor_, supervisor_;
};

const char* job_state_name(JobState s);

}  // namespace vkdream::server
