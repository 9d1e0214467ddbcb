#include "pistache_listener.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/net.h>
#include <pistache/peer.h>

#include <strings.h>

#include <algorithm>
#include <sstream>

namespace vkdream::server {

using namespace Pistache;

std::string percent_decode(const std::string& s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

namespace {

// A response header whose name is known only at run time (Pistache writes typed headers only, not Raw ones).
class NamedHeader : public Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return Http::Header::detail::hash(name_.c_str()); }
#endif

 private:
  std::string name_, value_;
};

class PistacheResponder : public Responder {
 public:
  PistacheResponder(Http::ResponseWriter writer, std::weak_ptr<Tcp::Peer> peer)
      : writer_(std::move(writer)), peer_(std::move(peer)) {}

  bool client_gone() const override { return peer_.expired(); }

 protected:
  void write(const HttpResponse& r) override {
    if (peer_.expired()) return;  // nobody to write to
    for (const auto& [name, value] : r.headers) {
      if (strcasecmp(name.c_str(), "Connection") == 0) {
        writer_.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
        continue;
      }
      writer_.headers().add(std::make_shared<NamedHeader>(name, value));
    }
    auto mime = Http::Mime::MediaType::fromString(r.content_type);
    writer_.send(static_cast<Http::Code>(r.status), r.body, mime);
  }

 private:
  Http::ResponseWriter writer_;
  std::weak_ptr<Tcp::Peer> peer_;
};

std::string method_name(Http::Method m) {
  switch (m) {
    case Http::Method::Get: return "GET";
    case Http::Method::Post: return "POST";
    case Http::Method::Put: return "PUT";
    case Http::Method::Delete: return "DELETE";
    case Http::Method::Head: return "HEAD";
    case Http::Method::Options: return "OPTIONS";
    case Http::Method::Patch: return "PATCH";
    default: return "OTHER";
  }
}

class Handler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)
  explicit Handler(std::shared_ptr<PistacheListener::Dispatch> dispatch) : dispatch_(std::move(dispatch)) {}

  void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
    HttpRequest req;
    req.method = method_name(request.method());
    req.path = percent_decode(request.resource(), false);
    const auto& q = request.query();
    for (auto it = q.parameters_begin(); it != q.parameters_end(); ++it)
      req.query[percent_decode(it->first, true)] = percent_decode(it->second, true);
    for (const auto& h : request.headers().list()) {
      std::ostringstream v;
      h->write(v);
      std::string name = h->name();
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      req.headers[name] = v.str();
    }
    for (const auto& [name, raw] : request.headers().rawList()) {
      std::string lname = name;
      std::transform(lname.begin(), lname.end(), lname.begin(), ::tolower);
      req.headers[lname] = raw.value();
    }
    req.body = request.body();
    auto peer = response.getPeer();
    // Pistache 0.0.5 times a connection out by the parser's state: after a request is parsed the parser is back
    // at "request line", so a response that takes longer than the header timeout (a running prompt) would get
    // a 408. Marking the peer idle makes the keep-alive timeout (longer than any request deadline) apply until
    // the client sends its next bytes, which clears the flag again.
    if (peer) peer->setIdle(true);
    auto responder = std::make_shared<PistacheResponder>(std::move(response), peer);
    try {
      (*dispatch_)(req, responder);
    } catch (const std::exception& e) {
      responder->send(HttpResponse::error(500, std::string("Internal error: ") + e.what()));
    }
  }

 private:
  std::shared_ptr<PistacheListener::Dispatch> dispatch_;
};

}  // namespace

struct PistacheListener::Impl {
  Options options;
  std::shared_ptr<Dispatch> dispatch;
  std::unique_ptr<Http::Endpoint> endpoint;
  bool running = false;
};

PistacheListener::PistacheListener(Options options, Dispatch dispatch) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->dispatch = std::make_shared<Dispatch>(std::move(dispatch));
}

PistacheListener::~PistacheListener() { shutdown(); }

void PistacheListener::start() {
  const Options& o = impl_->options;
  Address addr(o.host == "::" || o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host,
               Port(static_cast<uint16_t>(o.port)));
  if (o.host == "::") addr = Address(Ipv6::any(), Port(static_cast<uint16_t>(o.port)));
  impl_->endpoint = std::make_unique<Http::Endpoint>(addr);
  auto opts = Http::Endpoint::options()
                  .threads(o.threads)
                  .flags(Tcp::Options::ReuseAddr)
                  .maxRequestSize(o.max_request_bytes)
                  .headerTimeout(std::chrono::milliseconds(static_cast<int64_t>(o.header_timeout_s * 1000)))
                  .bodyTimeout(std::chrono::milliseconds(static_cast<int64_t>(o.body_timeout_s * 1000)))
                  .keepaliveTimeout(std::chrono::milliseconds(static_cast<int64_t>(o.keepalive_timeout_s * 1000)));
  impl_->endpoint->init(opts);
  impl_->endpoint->setHandler(Http::make_handler<Handler>(impl_->dispatch));
  impl_->endpoint->serveThreaded();
  impl_->running = true;
}

int PistacheListener::port() const {
  return impl_->endpoint ? static_cast<int>(static_cast<uint16_t>(impl_->endpoint->getPort())) : 0;
}

void PistacheListener::shutdown() {
  if (impl_ && impl_->running) {
    impl_->endpoint->shutdown();
    impl_->running = false;
  }
}

}  // namespace vkdream::server
