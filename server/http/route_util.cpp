#include "route_util.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace vkdream::server {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

using graph::JsonValue;

std::optional<HttpResponse> parse_json_body(const HttpRequest& req, JsonValue* out, bool any_content_type) {
  if (const std::string* ct = any_content_type ? nullptr : req.header("content-type")) {
    std::string t = ct->substr(0, ct->find(';'));
    std::transform(t.begin(), t.end(), t.begin(), ::tolower);
    t.erase(std::remove(t.begin(), t.end(), ' '), t.end());
    if (!t.empty() && t != "application/json")
      return HttpResponse::error(415, "Unsupported Media Type: '" + t + "', expected application/json",
                                 {{"location", JsonValue::string("body")}});
  }
  try {
    graph::JsonLimits limits;
    limits.max_depth = 64;
    limits.max_string_bytes = (16u << 20) / 3 * 4 + 4096;  // a 16 MiB image as base64 / data URI
    *out = graph::parse_json(req.body, limits);
  } catch (const std::exception& e) {
    return HttpResponse::error(400, std::string("Invalid JSON body: ") + e.what(),
                               {{"location", JsonValue::string("body")}});
  }
  return std::nullopt;
}

HttpResponse queue_full_response(size_t depth) {
  HttpResponse r = HttpResponse::error(429, "Queue is full, retry later",
                                       {{"queue_depth", JsonValue::integer(static_cast<int64_t>(depth))}});
  r.headers.emplace_back("Retry-After", std::to_string(std::max<size_t>(1, depth)));
  return r;
}

HttpResponse draining_response() {
  HttpResponse r = HttpResponse::error(503, "Server is shutting down");
  r.headers.emplace_back("Connection", "close");
  return r;
}

}  // namespace vkdream::server
