// A multipart/form-data body with the boundary taken from the input's first line (so the fuzzer finds both).
#include <cstdint>
#include <string>

#include "http/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vkdream::server;
  std::string in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string content_type = in.substr(0, nl);
  const std::string body = nl == std::string::npos ? std::string() : in.substr(nl + 1);
  auto boundary = multipart_boundary(content_type);
  auto parts = parse_multipart(body, boundary ? *boundary : std::string("b"));
  if (parts)
    for (const FormPart& p : *parts)
      if (p.data.size() > body.size()) __builtin_trap();
  return 0;
}
