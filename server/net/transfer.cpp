#include "net/transfer.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace vkdream::net {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Context {
  const TransferRequest* request = nullptr;
  TransferResponse* response = nullptr;
  bool too_large = false;
  std::string blocked_reason;  // set by the open-socket check
  std::string blocked_address;
};

size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
  auto* ctx = static_cast<Context*>(user);
  const size_t n = size * nmemb;
  if (ctx->request->max_body_bytes == 0) return n;  // discard
  if (ctx->response->body.size() + n > ctx->request->max_body_bytes) {
    ctx->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  ctx->response->body.append(data, n);
  return n;
}

// The last line of defence against DNS rebinding and odd address spellings: whatever curl decided to
// connect to must be one of the checked addresses and allowed by the policy.
curl_socket_t on_open_socket(void* user, curlsocktype purpose, curl_sockaddr* addr) {
  auto* ctx = static_cast<Context*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  auto ip = ip_from_sockaddr(&addr->addr);
  if (!ip) {
    ctx->blocked_reason = "unsupported-family";
    return CURL_SOCKET_BAD;
  }
  const auto& allowed = ctx->request->addresses;
  if (std::find(allowed.begin(), allowed.end(), *ip) == allowed.end()) {
    ctx->blocked_reason = "unpinned-address";
    ctx->blocked_address = ip->to_string();
    return CURL_SOCKET_BAD;
  }
  if (auto reason = ctx->request->policy->check(*ip)) {
    ctx->blocked_reason = *reason;
    ctx->blocked_address = ip->to_string();
    return CURL_SOCKET_BAD;
  }
  return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::string resolve_entry(const Url& url, const std::vector<IpAddress>& addrs) {
  std::string entry = url.host + ":" + std::to_string(url.port) + ":";
  for (size_t i = 0; i < addrs.size(); ++i) {
    if (i) entry += ",";
    entry += addrs[i].v6 ? "[" + addrs[i].to_string() + "]" : addrs[i].to_string();
  }
  return entry;
}

}  // namespace

TransferResponse perform_transfer(const TransferRequest& req) {
  global_init();
  const Url& url = *req.url;
  TransferResponse resp;
  Context ctx{&req, &resp};
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) throw FetchError(FetchError::Kind::Other, "curl", "cannot start an HTTP client");
  CURL* c = easy.get();
  char curl_error[CURL_ERROR_SIZE] = {};

  std::unique_ptr<curl_slist, SlistDeleter> resolve;
  if (!parse_ip_literal(url.host)) {
    // Pin the name to the addresses that were checked: curl does no lookup of its own.
    resolve.reset(curl_slist_append(nullptr, resolve_entry(url, req.addresses).c_str()));
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  }
  curl_slist* raw_headers = nullptr;
  for (const auto& [name, value] : req.headers) raw_headers = curl_slist_append(raw_headers, (name + ": " + value).c_str());
  if (req.post_body) raw_headers = curl_slist_append(raw_headers, "Expect:");  // no 100-continue round trip
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);

  curl_easy_setopt(c, CURLOPT_URL, url.text.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // never a proxy from the environment
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::max(1L, std::min(req.connect_timeout_ms, req.total_timeout_ms)));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, std::max(1L, req.total_timeout_ms));
  curl_easy_setopt(c, CURLOPT_USERAGENT, req.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &ctx);
  if (req.max_body_bytes) curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(req.max_body_bytes));
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (req.post_body) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.post_body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.post_body->size()));
  }

  const CURLcode rc = curl_easy_perform(c);
  if (!ctx.blocked_reason.empty())
    throw FetchError(FetchError::Kind::Blocked, ctx.blocked_reason,
                     "address " + ctx.blocked_address + " of host '" + url.host + "' is not allowed (" +
                         ctx.blocked_reason + ")");
  if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && ctx.too_large))
    throw FetchError(FetchError::Kind::TooLarge, "too_large",
                     "response larger than " + std::to_string(req.max_body_bytes) + " bytes");
  if (rc == CURLE_OPERATION_TIMEDOUT)
    throw FetchError(FetchError::Kind::Timeout, "timeout", "timed out fetching " + url.host + " (" + curl_error + ")");
  if (rc == CURLE_COULDNT_CONNECT)
    throw FetchError(FetchError::Kind::Connect, "connect", "cannot connect to " + url.host + " (" + curl_error + ")");
  if (rc != CURLE_OK)
    throw FetchError(FetchError::Kind::Other, "transfer",
                     std::string("request to ") + url.host + " failed: " + (curl_error[0] ? curl_error : curl_easy_strerror(rc)));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  if (char* ct = nullptr; curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) resp.content_type = ct;
  if (char* loc = nullptr; curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) resp.redirect_url = loc;
  return resp;
}

}  // namespace vkdream::net
