// The server's own view of one HTTP exchange, independent of Pistache: routes read an HttpRequest and answer
// through a Responder, possibly later and from another thread (the executor finishing a sync prompt).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/json_value.h"

namespace vkdream::server {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // without the query, percent-decoded
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string request_id;                      // X-Request-Id as sent (sanitised) or generated
  std::map<std::string, std::string> params;   // path parameters filled by the router
  std::string route;                           // the route's pattern, for metrics and logs
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();

  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse json(int status, const graph::JsonValue& v) { return {status, v.dump(), "application/json", {}}; }
  // {"error": message} plus extra members.
  static HttpResponse error(int status, const std::string& message, std::vector<graph::JsonValue::Member> extra = {});
};

// Timing a route may report for the request's log line.
struct RequestTiming {
  double queue_ms = -1;
  double exec_ms = -1;
};

class Responder {
 public:
  virtual ~Responder() = default;
  // Sends the response once (adding extra_headers, then calling on_sent); later calls are ignored. Thread-safe.
  void send(HttpResponse response, RequestTiming timing = {});
  bool sent() const;
  // True once the client has closed its connection (a waiting sync request then cancels its job).
  virtual bool client_gone() const = 0;

  // Set by the dispatcher before the route runs.
  std::vector<std::pair<std::string, std::string>> extra_headers;
  std::function<void(const HttpResponse&, const RequestTiming&)> on_sent;

 protected:
  virtual void write(const HttpResponse& response) = 0;

 private:
  mutable std::mutex mu_;
  bool sent_ = false;
};

}  // namespace vkdream::server
