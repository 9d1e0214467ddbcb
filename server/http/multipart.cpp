#include "multipart.h"

#include <algorithm>
#include <cctype>

namespace vkdream::server {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t");
  size_t b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// The value of `key` in a header like `form-data; name="image"; filename="a.png"`.
std::string header_param(const std::string& header, const std::string& key) {
  size_t i = 0;
  while ((i = lower(header).find(key + "=", i)) != std::string::npos) {
    if (i > 0 && header[i - 1] != ' ' && header[i - 1] != ';') {
      ++i;
      continue;
    }
    size_t v = i + key.size() + 1;
    if (v < header.size() && header[v] == '"') {
      size_t end = header.find('"', v + 1);
      return end == std::string::npos ? "" : header.substr(v + 1, end - v - 1);
    }
    size_t end = header.find(';', v);
    return trim(header.substr(v, end == std::string::npos ? std::string::npos : end - v));
  }
  return "";
}

}  // namespace

std::optional<std::string> multipart_boundary(const std::string& content_type) {
  if (lower(content_type).rfind("multipart/form-data", 0) != 0) return std::nullopt;
  std::string b = header_param(content_type, "boundary");
  if (b.empty() || b.size() > 200) return std::nullopt;
  return b;
}

std::optional<std::vector<FormPart>> parse_multipart(const std::string& body, const std::string& boundary) {
  std::vector<FormPart> parts;
  const std::string delim = "--" + boundary;
  size_t pos = body.find(delim);
  if (pos == std::string::npos) return std::nullopt;
  for (;;) {
    pos += delim.size();
    if (body.compare(pos, 2, "--") == 0) return parts;  // closing delimiter
    if (body.compare(pos, 2, "\r\n") != 0) return std::nullopt;
    pos += 2;
    size_t header_end = body.find("\r\n\r\n", pos);
    if (header_end == std::string::npos) return std::nullopt;
    FormPart part;
    size_t line = pos;
    while (line < header_end) {
      size_t eol = body.find("\r\n", line);
      if (eol == std::string::npos || eol > header_end) eol = header_end;
      std::string h = body.substr(line, eol - line);
      size_t colon = h.find(':');
      if (colon != std::string::npos) {
        std::string name = lower(trim(h.substr(0, colon)));
        std::string value = trim(h.substr(colon + 1));
        if (name == "content-disposition") {
          part.name = header_param(value, "name");
          part.filename = header_param(value, "filename");
        } else if (name == "content-type") {
          part.content_type = value;
        }
      }
      line = eol + 2;
    }
    size_t data_start = header_end + 4;
    size_t next = body.find("\r\n" + delim, data_start);
    if (next == std::string::npos) return std::nullopt;
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(std::move(part));
    pos = next + 2;
  }
}

}  // namespace vkdream::server
