// A few threads for request work that may block (image downloads, base64 decoding, validation), so the
// Pistache reactor threads stay free to answer /health within milliseconds.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vkdream::server {

class WorkerPool {
 public:
  WorkerPool(int threads, size_t max_waiting);
  ~WorkerPool();  // finishes what was queued
  // False (and fn not run) when max_waiting tasks already wait.
  bool post(std::function<void()> fn);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  size_t max_waiting_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace vkdream::server
