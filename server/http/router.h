// Method + path routing with {name} segments and a trailing {name*} that takes the rest of the path.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http_types.h"

namespace vkdream::server {

using RouteFn = std::function<void(HttpRequest&, const std::shared_ptr<Responder>&)>;

class Router {
 public:
  void add(const std::string& method, const std::string& pattern, RouteFn fn);

  enum class Match { Found, NotFound, WrongMethod };
  // Fills req.params and req.route on a match.
  Match match(HttpRequest& req, RouteFn* fn) const;

 private:
  struct Route {
    std::string method, pattern;
    std::vector<std::string> segments;
    RouteFn fn;
  };
  static bool match_path(const Route& r, const std::vector<std::string>& parts, std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
};

std::vector<std::string> split_path(const std::string& path);

}  // namespace vkdream::server
