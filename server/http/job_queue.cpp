#include "job_queue.h"

#include <future>

namespace vkdream::server {
namespace {

double unix_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  if (a == Clock::time_point{} || b == Clock::time_point{}) return -1;
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The event types ComfyUI keeps in a history entry's status.messages.
bool kept_in_history(const std::string& type) {
  return type == "execution_start" || type == "execution_cached" || type == "execution_success" ||
         type == "execution_error" || type == "execution_interrupted";
}

}  // namespace

const char* job_state_name(JobState s) {
  switch (s) {
    case JobState::Queued: return "queued";
    case JobState::Running: return "running";
    case JobState::Succeeded: return "success";
    case JobState::Failed: return "error";
    case JobState::Interrupted: return "interrupted";
    case JobState::Cancelled: return "cancelled";
  }
  return "?";
}

double Job::queue_ms() const { return ms_between(enqueued, started != Clock::time_point{} ? started : finished); }
double Job::exec_ms() const { return ms_between(started, finished); }

JobQueue::JobQueue(Runtime& runtime, size_t max_depth) : runtime_(runtime), max_depth_(max_depth) {
  beat();
  executor_ = std::thread([this] { executor_loop(); });
  supervisor_ = std::thread([this] { supervisor_loop(); });
}

JobQueue::~JobQueue() {
  clear_pending("shutdown");
  interrupt_running("shutdown");
  stop_.store(true);
  cv_.notify_all();
  if (executor_.joinable()) executor_.join();
  if (supervisor_.joinable()) supervisor_.join();
}

void JobQueue::beat() {
  heartbeat_ns_.store(Clock::now().time_since_epoch().count());
}

double JobQueue::seconds_since_heartbeat() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return 0;
  }
  Clock::time_point last{Clock::duration(heartbeat_ns_.load())};
  return std::chrono::duration<double>(Clock::now() - last).count();
}

JobQueue::Submit JobQueue::submit(std::shared_ptr<Job> job, bool front) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_.load() || stop_.load()) return Submit::Draining;
  if (pending_.size() >= max_depth_) return Submit::Full;
  job->state = JobState::Queued;
  job->enqueued = Clock::now();
  if (front)
    pending_.push_front(std::move(job));
  else
    pending_.push_back(std::move(job));
  cv_.notify_all();
  return Submit::Accepted;
}

void JobQueue::finish(Job& job) {
  job.finished = Clock::now();
  job.wall_end_ms = unix_ms();
  if (job.on_done) {
    auto fn = std::move(job.on_done);
    job.on_done = nullptr;
    fn(job);
  }
  done_cv_.notify_all();
}

bool JobQueue::cancel(const std::string& id, const std::string& reason) {
  std::shared_ptr<Job> removed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ && running_->id == id) {
      if (running_->cancel_reason.empty()) running_->cancel_reason = reason;
      runtime_.interrupt();
      return true;
    }
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if ((*it)->id == id) {
        removed = *it;
        pending_.erase(it);
        break;
      }
    }
    if (!removed) return false;
    removed->state = JobState::Cancelled;
    removed->cancel_reason = reason;
  }
  finish(*removed);
  return true;
}

bool JobQueue::interrupt_running(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!running_) return false;
  if (running_->cancel_reason.empty()) running_->cancel_reason = reason;
  runtime_.interrupt();
  return true;
}

size_t JobQueue::clear_pending(const std::string& reason) {
  std::deque<std::shared_ptr<Job>> removed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    removed.swap(pending_);
    for (auto& j : removed) {
      j->state = JobState::Cancelled;
      j->cancel_reason = reason;
    }
  }
  for (auto& j : removed) finish(*j);
  return removed.size();
}

bool JobQueue::drain(std::chrono::milliseconds timeout) {
  draining_.store(true);
  std::unique_lock<std::mutex> lock(mu_);
  bool all = done_cv_.wait_for(lock, timeout, [&] { return pending_.empty() && !running_; });
  lock.unlock();
  if (all) return true;
  clear_pending("shutdown");
  interrupt_running("shutdown");
  lock.lock();
  // The running prompt stops at its next node or sampler step; SIGKILL follows anyway if it does not.
  done_cv_.wait_for(lock, std::chrono::seconds(30), [&] { return !running_; });
  return false;
}

QueueSnapshot JobQueue::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {running_, std::vector<std::shared_ptr<Job>>(pending_.begin(), pending_.end())};
}

size_t JobQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

bool JobQueue::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_ != nullptr;
}

void JobQueue::run_on_executor(std::function<void()> fn) {
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back([fn = std::move(fn), done] {
      try {
        fn();
        done->set_value();
      } catch (...) {
        done->set_exception(std::current_exception());
      }
    });
    cv_.notify_all();
  }
  fut.get();
}

void JobQueue::post_on_executor(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  tasks_.push_back([fn = std::move(fn)] {
    try {
      fn();
    } catch (...) {
    }
  });
  cv_.notify_all();
}

void JobQueue::executor_loop() {
  for (;;) {
    std::shared_ptr<Job> job;
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_.load() || !pending_.empty() || !tasks_.empty(); });
      beat();
      if (!tasks_.empty()) {
        task = std::move(tasks_.front());
        tasks_.pop_front();
      } else if (!pending_.empty()) {
        job = pending_.front();
        pending_.pop_front();
        running_ = job;
        job->state = JobState::Running;
        job->started = Clock::now();
        job->wall_start_ms = unix_ms();
      } else if (stop_.load()) {
        break;
      } else {
        continue;
      }
    }
    if (task) {
      task();
      continue;
    }
    try {
      job->result = runtime_.execute(job->validated, job->id, [&](const graph::ExecEvent& e) {
        beat();
        if (e.type == "executing") {
          const graph::JsonValue* node = e.data.find("node");
          if (node && node->is_string()) job->node_start_ms[node->as_string()] = unix_ms();
        }
        if (kept_in_history(e.type)) {
          graph::JsonValue data = e.data;
          data.set("timestamp", graph::JsonValue::integer(static_cast<int64_t>(unix_ms())));
          job->messages.emplace_back(e.type, std::move(data));
        }
        if (job->on_event) job->on_event(e);
      }, job->extra_data);
    } catch (const std::exception& ex) {
      job->result = graph::ExecResult{};
      job->result.error = graph::JsonValue::object({{"exception_message", graph::JsonValue::string(ex.what())},
                                                    {"exception_type", graph::JsonValue::string("RuntimeError")}});
    }
    beat();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (job->result.success)
        job->state = JobState::Succeeded;
      else if (job->result.interrupted || !job->cancel_reason.empty())
        job->state = job->cancel_reason.empty() || job->cancel_reason == "user" ? JobState::Interrupted
                                                                                 : JobState::Cancelled;
      else
        job->state = JobState::Failed;
    }
    finish(*job);  // before running_ clears, so drain() returns only after the response went out
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = nullptr;
    }
    done_cv_.notify_all();
  }
  executor_alive_.store(false);
}

void JobQueue::supervisor_loop() {
  while (!stop_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::vector<std::shared_ptr<Job>> cancelled;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto now = Clock::now();
      for (auto it = pending_.begin(); it != pending_.end();) {
        Job& j = **it;
        const char* reason = now >= j.deadline ? "deadline" : (j.client_gone && j.client_gone()) ? "client_disconnected"
                                                                                                 : nullptr;
        if (reason) {
          j.state = JobState::Cancelled;
          j.cancel_reason = reason;
          cancelled.push_back(*it);
          it = pending_.erase(it);
        } else {
          ++it;
        }
      }
      if (running_) {
        Job& j = *running_;
        if (j.cancel_reason.empty()) {
          if (now >= j.deadline)
            j.cancel_reason = "deadline";
          else if (j.client_gone && j.client_gone())
            j.cancel_reason = "client_disconnected";
        }
        // Repeated while it runs: an interrupt that raced with the prompt's start is not lost.
        if (!j.cancel_reason.empty()) runtime_.interrupt();
      }
    }
    for (auto& j : cancelled) finish(*j);
  }
}

}  // namespace vkdream::server
