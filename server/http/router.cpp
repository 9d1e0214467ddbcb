#include "router.h"

namespace vkdream::server {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

void Router::add(const std::string& method, const std::string& pattern, RouteFn fn) {
  routes_.push_back({method, pattern, split_path(pattern), std::move(fn)});
}

bool Router::match_path(const Route& r, const std::vector<std::string>& parts,
                        std::map<std::string, std::string>* params) {
  std::map<std::string, std::string> got;
  size_t i = 0;
  for (; i < r.segments.size(); ++i) {
    const std::string& s = r.segments[i];
    bool is_param = s.size() > 2 && s.front() == '{' && s.back() == '}';
    if (is_param && s[s.size() - 2] == '*') {  // rest of the path
      if (i >= parts.size()) return false;
      std::string rest;
      for (size_t k = i; k < parts.size(); ++k) rest += (k > i ? "/" : "") + parts[k];
      got[s.substr(1, s.size() - 3)] = rest;
      *params = std::move(got);
      return true;
    }
    if (i >= parts.size()) return false;
    if (is_param)
      got[s.substr(1, s.size() - 2)] = parts[i];
    else if (s != parts[i])
      return false;
  }
  if (i != parts.size()) return false;
  *params = std::move(got);
  return true;
}

Router::Match Router::match(HttpRequest& req, RouteFn* fn) const {
  auto parts = split_path(req.path);
  bool path_known = false;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!match_path(r, parts, &params)) continue;
    path_known = true;
    if (r.method != req.method && !(req.method == "HEAD" && r.method == "GET")) continue;
    req.params = std::move(params);
    req.route = r.pattern;
    *fn = r.fn;
    return Match::Found;
  }
  return path_known ? Match::WrongMethod : Match::NotFound;
}

}  // namespace vkdream::server
