// The serving API's prompt pipeline (api.md "POST /prompt"), shared by /prompt and /workflow/...: checks the
// body and limits, prefixes filename_prefix with the id, resolves `image` inputs (URL, base64, input file),
// validates, and after execution turns the job into the 200 body (base64 images, filenames, stats) or an
// error, and into webhook bodies.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "graph/json_value.h"
#include "http_types.h"
#include "job_queue.h"
#include "media/image_encode.h"
#include "server_context.h"

namespace vkdream::server {

struct PreparedPrompt {
  std::string id;
  graph::JsonValue body;   // the request body as sent (echoed in responses)
  graph::JsonValue graph;  // the prompt as it will run (prefixed, images resolved)
  bool convert = false;
  media::ConvertOptions convert_options;
  std::string webhook_v2, webhook;
  std::vector<std::string> temp_files;  // input images written for this request, deleted afterwards
  graph::ValidationResult validated;
  double preprocess_ms = 0;

  bool async() const { return !webhook_v2.empty() || !webhook.empty(); }
};

// The serving API's input limits (reliability.md) on literal node inputs: width/height 64..2048 and a multiple
// of 8, batch_size 1..16, steps 1..150, cfg finite 0..100, denoise 0..1, text at most 64 KiB. Returns the 400
// response for the first violation.
std::optional<HttpResponse> check_serving_limits(const graph::JsonValue& graph);

// Everything before queueing. On failure returns the error response (and deletes any file it wrote).
std::optional<HttpResponse> prepare_prompt(ServerContext& ctx, graph::JsonValue body, PreparedPrompt* out);

// The answer for a finished job (reads and deletes its output images). For Cancelled jobs whose client left
// the response is irrelevant but still well-formed.
HttpResponse finished_response(ServerContext& ctx, PreparedPrompt& prep, Job& job);

// Webhook bodies for a finished job given its response: webhook_v2 (one) or legacy (one per image).
std::vector<std::string> webhook_bodies(const PreparedPrompt& prep, const HttpResponse& response, bool v2);

// Deletes the temporary input files.
void cleanup_prepared(PreparedPrompt& prep);

}  // namespace vkdream::server
