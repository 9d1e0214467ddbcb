// Reads the golden index (tests/fixtures/golden/index.json, or VKDREAM_GOLDEN_DIR) for sampling tests.
#pragma once
#include <simdjson.h>

#include <cstdlib>
#include <string>

namespace vkdream::test {

inline std::string golden_dir() {
  const char* env = std::getenv("VKDREAM_GOLDEN_DIR");
  return env && *env ? env : VKDREAM_FIXTURES_DIR "/golden";
}

inline simdjson::dom::element golden_index() {
  static simdjson::dom::parser parser;
  static simdjson::dom::element root = parser.load(golden_dir() + "/index.json");
  return root;
}

}  // namespace vkdream::test
