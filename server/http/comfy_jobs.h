// ComfyUI's unified job view, GET /api/jobs and /api/jobs/{id} (comfy_execution/jobs.py): queue items and
// history entries as {"id", "status": pending|in_progress|completed|failed, "priority", "create_time", ...}.
#pragma once

#include "router.h"
#include "server_context.h"

namespace vkdream::server {

void add_comfy_job_routes(Router& router, ServerContext& ctx);

}  // namespace vkdream::server
