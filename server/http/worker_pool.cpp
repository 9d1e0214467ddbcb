#include "worker_pool.h"

namespace vkdream::server {

WorkerPool::WorkerPool(int threads, size_t max_waiting) : max_waiting_(max_waiting) {
  for (int i = 0; i < threads; ++i)
    threads_.emplace_back([this] {
      for (;;) {
        std::function<void()> fn;
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
          if (tasks_.empty()) return;
          fn = std::move(tasks_.front());
          tasks_.pop_front();
        }
        fn();
      }
    });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool WorkerPool::post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_ || tasks_.size() >= max_waiting_) return false;
  tasks_.push_back(std::move(fn));
  cv_.notify_one();
  return true;
}

}  // namespace vkdream::server
