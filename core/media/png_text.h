// Reading the text chunks (tEXt, and uncompressed iTXt) back out of a PNG: used by tests and by anything that
// needs the embedded workflow of an uploaded PNG.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vkdream::media {

// (keyword, text) for each tEXt / uncompressed iTXt chunk, in file order. Stops at the first malformed
// chunk or a bad CRC; returns what was read before it. Empty for a non-PNG.
std::vector<std::pair<std::string, std::string>> read_png_text_chunks(std::string_view png);

}  // namespace vkdream::media
