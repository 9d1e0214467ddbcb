// Identifiers: random UUIDs for prompt and request ids, and the check that a client-chosen id is safe to put
// in file names, logs and headers.
#pragma once

#include <string>

namespace vkdream::server {

std::string new_uuid();  // RFC 4122 version 4, lower-case
// 1..128 characters of [A-Za-z0-9._:-]; anything else is refused (ids end up in file names and log lines).
bool is_valid_id(const std::string& id);

}  // namespace vkdream::server
