// Prometheus metrics of reliability.md: labelled counters, histograms and gauges, rendered as text format 0.0.4.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace vkdream::server {

class Metrics {
 public:
  Metrics();

  void request(const std::string& route, int code, double seconds);  // requests_total + request_duration
  void rejected(const std::string& reason) { inc("vkdream_rejected_total", "reason", reason); }
  void cancelled(const std::string& reason) { inc("vkdream_cancelled_total", "reason", reason); }
  void webhook_attempt(const std::string& outcome) { inc("vkdream_webhook_attempts_total", "outcome", outcome); }
  void egress_blocked(const std::string& reason) { inc("vkdream_egress_blocked_total", "reason", reason); }
  void queue_wait(double seconds) { observe("vkdream_queue_wait_seconds", seconds); }
  void inference(double seconds) { observe("vkdream_inference_seconds", seconds); }
  void sampler_step() { sampler_steps_.fetch_add(1); }

  // Gauges read when /metrics is rendered.
  void set_gauges(std::function<double()> queue_depth, std::function<double()> inflight,
                  std::function<double()> model_ready);

  // Generic: counter with one label, histogram observation.
  void inc(const std::string& name, const std::string& label, const std::string& value, double by = 1);
  void observe(const std::string& name, double seconds);
  double counter_value(const std::string& name, const std::string& label_value) const;  // tests

  std::string render() const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> buckets;  // cumulative at render
    double sum = 0;
    uint64_t count = 0;
  };
  mutable std::mutex mu_;
  // name -> (label text "{k=\"v\"}" -> value)
  std::map<std::string, std::map<std::string, double>> counters_;
  std::map<std::string, Histogram> histograms_;
  std::atomic<uint64_t> sampler_steps_{0};
  std::function<double()> queue_depth_, inflight_, model_ready_;
};

}  // namespace vkdream::server
