#include "media/base64.h"

#include <array>
#include <cstdint>

namespace vkdream::media {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int8_t kWhitespace = -2;
constexpr int8_t kPad = -3;
constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  for (char c : {' ', '\t', '\r', '\n', '\f', '\v'}) t[static_cast<uint8_t>(c)] = kWhitespace;
  t['='] = kPad;
  return t;
}
constexpr auto kTable = make_table();

void set_error(std::string* error, std::string msg) {
  if (error) *error = std::move(msg);
}

}  // namespace

std::string base64_encode(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8) | p[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size - i == 1) {
    uint32_t v = uint32_t(p[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (size - i == 2) {
    uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64_encode(std::string_view bytes) { return base64_encode(bytes.data(), bytes.size()); }

size_t base64_decoded_size_bound(std::string_view text) { return (text.size() + 3) / 4 * 3; }

std::optional<std::string> base64_decode(std::string_view text, size_t max_decoded_bytes, std::string* error) {
  // Count the significant characters first: the exact decoded size is known before allocating.
  size_t digits = 0, pads = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int8_t v = kTable[static_cast<uint8_t>(text[i])];
    if (v >= 0) {
      if (pads) {
        set_error(error, "invalid base64: data after '=' padding");
        return std::nullopt;
      }
      ++digits;
    } else if (v == kPad) {
      ++pads;
    } else if (v == kInvalid) {
      set_error(error, "invalid base64: unexpected character at offset " + std::to_string(i));
      return std::nullopt;
    }
  }
  if (digits == 0) {
    set_error(error, "invalid base64: empty");
    return std::nullopt;
  }
  const size_t rem = digits % 4;
  if (rem == 1) {
    set_error(error, "invalid base64: truncated (length is not a whole number of bytes)");
    return std::nullopt;
  }
  if (pads && (pads > 2 || (digits + pads) % 4 != 0)) {
    set_error(error, "invalid base64: wrong '=' padding");
    return std::nullopt;
  }
  const size_t size = digits / 4 * 3 + (rem == 0 ? 0 : rem - 1);
  if (size > max_decoded_bytes) {
    set_error(error, "base64 data decodes to " + std::to_string(size) + " bytes, more than the limit of " +
                         std::to_string(max_decoded_bytes));
    return std::nullopt;
  }
  std::string out;
  out.resize(size);
  size_t o = 0;
  uint32_t acc = 0;
  int n = 0;
  for (char c : text) {
    int8_t v = kTable[static_cast<uint8_t>(c)];
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (++n == 4) {
      out[o++] = static_cast<char>(acc >> 16);
      out[o++] = static_cast<char>(acc >> 8);
      out[o++] = static_cast<char>(acc);
      acc = 0;
      n = 0;
    }
  }
  if (n == 2) {
    if (acc & 0xF) {
      set_error(error, "invalid base64: non-zero bits after the last byte");
      return std::nullopt;
    }
    out[o++] = static_cast<char>(acc >> 4);
  } else if (n == 3) {
    if (acc & 0x3) {
      set_error(error, "invalid base64: non-zero bits after the last byte");
      return std::nullopt;
    }
    out[o++] = static_cast<char>(acc >> 10);
    out[o++] = static_cast<char>(acc >> 2);
  }
  return out;
}

}  // namespace vkdream::media
