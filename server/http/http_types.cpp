#include "http_types.h"

namespace vkdream::server {

HttpResponse HttpResponse::error(int status, const std::string& message, std::vector<graph::JsonValue::Member> extra) {
  std::vector<graph::JsonValue::Member> members;
  members.emplace_back("error", graph::JsonValue::string(message));
  for (auto& m : extra) members.push_back(std::move(m));
  return json(status, graph::JsonValue::object(std::move(members)));
}

void Responder::send(HttpResponse response, RequestTiming timing) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sent_) return;
    sent_ = true;
  }
  for (const auto& h : extra_headers) response.headers.push_back(h);
  write(response);
  if (on_sent) on_sent(response, timing);
}

bool Responder::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

}  // namespace vkdream::server
