// multipart/form-data bodies (RFC 7578) as ComfyUI's /upload/image receives them.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vkdream::server {

struct FormPart {
  std::string name;      // form field name
  std::string filename;  // for file parts ("" otherwise)
  std::string content_type;
  std::string data;
};

// The boundary of a "multipart/form-data; boundary=..." Content-Type; nullopt when it is not one.
std::optional<std::string> multipart_boundary(const std::string& content_type);

// Splits the body; nullopt when it is malformed (no closing boundary, a part without headers, ...).
std::optional<std::vector<FormPart>> parse_multipart(const std::string& body, const std::string& boundary);

}  // namespace vkdream::server
