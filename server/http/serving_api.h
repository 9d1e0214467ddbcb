// Port 3000: the serving API of api.md (the comfyui-api contract).
#pragma once

#include "router.h"
#include "server_context.h"
#include "worker_pool.h"

namespace vkdream::server {

void add_serving_routes(Router& router, ServerContext& ctx, WorkerPool& workers);

}  // namespace vkdream::server
