// Helpers the route files share: JSON bodies with the server's limits, and common answers.
#pragma once

#include <optional>
#include <string>

#include "graph/json_value.h"
#include "http_types.h"

namespace vkdream::server {

// The whole file, or nullopt when it cannot be opened.
std::optional<std::string> read_file(const std::string& path);

// Parses the request body as JSON: 415 when a Content-Type other than application/json is given (unless
// any_content_type: ComfyUI reads JSON whatever the header says, and its clients rely on that), 400 when the
// text is not JSON or breaks the nesting/string limits. Strings may be as long as a base64 input image; the
// 1 MiB limit on other strings is enforced when the prompt is parsed.
std::optional<HttpResponse> parse_json_body(const HttpRequest& req, graph::JsonValue* out, bool any_content_type = false);

HttpResponse queue_full_response(size_t depth);
HttpResponse draining_response();

}  // namespace vkdream::server
