#include "metrics.h"

#include <cstdio>
#include <fstream>
#include <unistd.h>

namespace vkdream::server {
namespace {

std::string escape_label(const std::string& v) {
  std::string o;
  for (char c : v) {
    if (c == '\\' || c == '"') o += '\\';
    if (c == '\n') { o += "\\n"; continue; }
    o += c;
  }
  return o;
}

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

double resident_bytes() {
  std::ifstream f("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  if (!(f >> pages_total >> pages_resident)) return 0;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

const char* help_of(const std::string& name) {
  static const std::map<std::string, const char*> help = {
      {"vkdream_requests_total", "HTTP requests by route and status code"},
      {"vkdream_rejected_total", "Requests rejected before queueing, by reason"},
      {"vkdream_cancelled_total", "Jobs cancelled, by reason"},
      {"vkdream_webhook_attempts_total", "Webhook delivery attempts, by outcome"},
      {"vkdream_egress_blocked_total", "Outbound requests refused by the egress rules, by reason"},
      {"vkdream_request_duration_seconds", "HTTP request duration"},
      {"vkdream_queue_wait_seconds", "Time jobs wait in the queue"},
      {"vkdream_inference_seconds", "Time jobs run on the executor"},
  };
  auto it = help.find(name);
  return it == help.end() ? "" : it->second;
}

}  // namespace

Metrics::Metrics() {
  const std::vector<double> request_bounds = {0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  for (const char* n : {"vkdream_request_duration_seconds", "vkdream_queue_wait_seconds", "vkdream_inference_seconds"}) {
    Histogram h;
    h.bounds = request_bounds;
    h.buckets.assign(request_bounds.size(), 0);
    histograms_[n] = h;
  }
  for (const char* n : {"vkdream_requests_total", "vkdream_rejected_total", "vkdream_cancelled_total",
                        "vkdream_webhook_attempts_total", "vkdream_egress_blocked_total"})
    counters_[n];
}

void Metrics::request(const std::string& route, int code, double seconds) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    counters_["vkdream_requests_total"]["{route=\"" + escape_label(route) + "\",code=\"" + std::to_string(code) +
                                        "\"}"] += 1;
  }
  observe("vkdream_request_duration_seconds", seconds);
}

void Metrics::inc(const std::string& name, const std::string& label, const std::string& value, double by) {
  std::lock_guard<std::mutex> lock(mu_);
  counters_[name]["{" + label + "=\"" + escape_label(value) + "\"}"] += by;
}

double Metrics::counter_value(const std::string& name, const std::string& label_value) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(name);
  if (it == counters_.end()) return 0;
  double total = 0;
  for (const auto& [labels, v] : it->second)
    if (labels.find("\"" + label_value + "\"") != std::string::npos) total += v;
  return total;
}

void Metrics::observe(const std::string& name, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = histograms_.find(name);
  if (it == histograms_.end()) return;
  Histogram& h = it->second;
  for (size_t i = 0; i < h.bounds.size(); ++i)
    if (seconds <= h.bounds[i]) ++h.buckets[i];
  h.sum += seconds;
  ++h.count;
}

void Metrics::set_gauges(std::function<double()> queue_depth, std::function<double()> inflight,
                         std::function<double()> model_ready) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_depth_ = std::move(queue_depth);
  inflight_ = std::move(inflight);
  model_ready_ = std::move(model_ready);
}

std::string Metrics::render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string o;
  for (const auto& [name, series] : counters_) {
    o += "# HELP " + name + " " + help_of(name) + "\n# TYPE " + name + " counter\n";
    for (const auto& [labels, v] : series) o += name + labels + " " + fmt(v) + "\n";
  }
  for (const auto& [name, h] : histograms_) {
    o += "# HELP " + name + " " + help_of(name) + "\n# TYPE " + name + " histogram\n";
    for (size_t i = 0; i < h.bounds.size(); ++i)
      o += name + "_bucket{le=\"" + fmt(h.bounds[i]) + "\"} " + std::to_string(h.buckets[i]) + "\n";
    o += name + "_bucket{le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    o += name + "_sum " + fmt(h.sum) + "\n" + name + "_count " + std::to_string(h.count) + "\n";
  }
  auto gauge = [&](const char* name, const char* help, double v) {
    o += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " + fmt(v) + "\n";
  };
  gauge("vkdream_queue_depth", "Jobs waiting in the queue", queue_depth_ ? queue_depth_() : 0);
  gauge("vkdream_inflight", "Jobs running", inflight_ ? inflight_() : 0);
  gauge("vkdream_model_ready", "1 once the warm-up prompt has completed", model_ready_ ? model_ready_() : 0);
  o += "# HELP vkdream_sampler_steps_total Sampler steps executed\n# TYPE vkdream_sampler_steps_total counter\n";
  o += "vkdream_sampler_steps_total " + std::to_string(sampler_steps_.load()) + "\n";
  gauge("process_resident_memory_bytes", "Resident memory size in bytes", resident_bytes());
  return o;
}

}  // namespace vkdream::server
