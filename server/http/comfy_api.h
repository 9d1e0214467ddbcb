// Port 8188: ComfyUI's own HTTP API (api.md "Port 8188"), so ComfyUI clients work unchanged. Every route is
// also served under /api/ (the dispatcher strips the prefix). The WebSocket channel is not part of it yet.
#pragma once

#include "router.h"
#include "server_context.h"

namespace vkdream::server {

void add_comfy_routes(Router& router, ServerContext& ctx);

}  // namespace vkdream::server
