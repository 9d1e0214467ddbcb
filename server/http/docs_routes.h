// GET /openapi.json (generated: the serving routes plus one path per workflow template) and GET /docs
// (Swagger UI from npm's swagger-ui-dist, installed by scripts/setup.sh).
#pragma once

#include <string>

#include "graph/json_value.h"
#include "router.h"
#include "server_context.h"

namespace vkdream::server {

graph::JsonValue openapi_document(ServerContext& ctx);

// The swagger-ui-dist folder: config.swagger_ui_dir, else node_modules/swagger-ui-dist next to the binary,
// its parents, or the source tree. "" when none has swagger-ui-bundle.js.
std::string find_swagger_ui_dir(const ServerConfig& config);

void add_docs_routes(Router& router, ServerContext& ctx);

}  // namespace vkdream::server
