#include "save_path.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <vector>

#include "vkdream/plugin.hpp"

namespace vkdream::packs::image {

namespace fs = std::filesystem;

namespace {

std::string replace_all(std::string s, std::string_view from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

std::string zfill2(int v) { return v < 10 && v >= 0 ? "0" + std::to_string(v) : std::to_string(v); }

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

// os.path.commonpath of two absolute, normalized paths.
std::string py_commonpath(std::string_view a, std::string_view b) {
  auto parts = [](std::string_view p) {
    std::vector<std::string> v;
    for (auto& c : split(p, '/'))
      if (!c.empty() && c != ".") v.push_back(c);
    return v;
  };
  auto pa = parts(a), pb = parts(b);
  std::string out = "/";
  for (size_t i = 0; i < std::min(pa.size(), pb.size()) && pa[i] == pb[i]; ++i) out += (i ? "/" : "") + pa[i];
  return out;
}

// Byte length of the first `n` code points of UTF-8 `s` (Python slices strings by code points).
size_t utf8_prefix_bytes(std::string_view s, size_t n) {
  size_t i = 0;
  for (size_t cp = 0; cp < n && i < s.size(); ++cp) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}
size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
// The last code point of `s` as text (Python's s[-1]).
std::string_view utf8_last(std::string_view s) {
  if (s.empty()) return s;
  size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return s.substr(i);
}

// Python's int(text) for the ASCII forms a file name can hold: optional whitespace and sign, then digits.
std::optional<int64_t> py_int(std::string_view t) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!t.empty() && ws(t.front())) t.remove_prefix(1);
  while (!t.empty() && ws(t.back())) t.remove_suffix(1);
  bool neg = false;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    neg = t[0] == '-';
    t.remove_prefix(1);
  }
  if (t.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : t) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v > (INT64_MAX - 9) / 10 ? INT64_MAX : v * 10 + (c - '0');  // saturates; no real file gets there
  }
  return neg ? -v : v;
}

}  // namespace

std::string py_normpath(std::string_view path) {
  if (path.empty()) return ".";
  int initial = path[0] == '/' ? 1 : 0;
  if (path.substr(0, 2) == "//" && path.substr(0, 3) != "///") initial = 2;
  std::vector<std::string> comps;
  for (auto& c : split(path, '/')) {
    if (c.empty() || c == ".") continue;
    if (c != ".." || (!initial && comps.empty()) || (!comps.empty() && comps.back() == ".."))
      comps.push_back(c);
    else if (!comps.empty())
      comps.pop_back();
  }
  std::string out(size_t(initial), '/');
  for (size_t i = 0; i < comps.size(); ++i) out += (i ? "/" : "") + comps[i];
  return out.empty() ? "." : out;
}

std::string py_dirname(std::string_view path) {
  size_t i = path.rfind('/');
  std::string head(i == std::string_view::npos ? std::string_view() : path.substr(0, i + 1));
  if (!head.empty() && head.find_first_not_of('/') != std::string::npos)
    while (!head.empty() && head.back() == '/') head.pop_back();
  return head;
}

std::string py_basename(std::string_view path) {
  size_t i = path.rfind('/');
  return std::string(i == std::string_view::npos ? path : path.substr(i + 1));
}

std::string py_abspath(std::string_view path) {
  if (!path.empty() && path[0] == '/') return py_normpath(path);
  return py_normpath(fs::current_path().string() + "/" + std::string(path));
}

std::string compute_save_vars(std::string prefix, int64_t width, int64_t height, const std::tm& now) {
  prefix = replace_all(std::move(prefix), "%width%", std::to_string(width));
  prefix = replace_all(std::move(prefix), "%height%", std::to_string(height));
  prefix = replace_all(std::move(prefix), "%year%", std::to_string(now.tm_year + 1900));
  prefix = replace_all(std::move(prefix), "%month%", zfill2(now.tm_mon + 1));
  prefix = replace_all(std::move(prefix), "%day%", zfill2(now.tm_mday));
  prefix = replace_all(std::move(prefix), "%hour%", zfill2(now.tm_hour));
  prefix = replace_all(std::move(prefix), "%minute%", zfill2(now.tm_min));
  prefix = replace_all(std::move(prefix), "%second%", zfill2(now.tm_sec));
  return prefix;
}

SaveImagePath get_save_image_path(std::string filename_prefix, const std::string& output_dir, int64_t width,
                                  int64_t height, const std::tm& now) {
  if (filename_prefix.find('%') != std::string::npos)
    filename_prefix = compute_save_vars(std::move(filename_prefix), width, height, now);
  SaveImagePath r;
  std::string norm = py_normpath(filename_prefix);
  r.subfolder = py_dirname(norm);
  r.filename = py_basename(norm);
  r.filename_prefix = filename_prefix;
  // os.path.join(output_dir, subfolder): an absolute subfolder replaces the output folder.
  if (!r.subfolder.empty() && r.subfolder[0] == '/')
    r.full_output_folder = r.subfolder;
  else
    r.full_output_folder = output_dir + (output_dir.empty() || output_dir.back() == '/' ? "" : "/") + r.subfolder;
  std::string abs_full = py_abspath(r.full_output_folder);
  std::string common = py_commonpath(output_dir, abs_full);
  if (common != output_dir)
    throw vkd::Error("**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: " +
                         abs_full + "\n         output_dir: " + output_dir + "\n         commonpath: " + common,
                     "Exception", VKD_ERROR_INVALID_ARGUMENT);

  // The counter: map_filename over the folder's entries, keeping those whose first len(basename(prefix)) + 1
  // characters are the filename and "_", digits = int(rest.split('_')[0]) or 0; the highest + 1.
  std::error_code ec;
  if (!fs::is_directory(r.full_output_folder, ec)) {
    fs::create_directories(r.full_output_folder, ec);
    if (ec) throw vkd::Error("cannot create " + r.full_output_folder + ": " + ec.message(), "OSError");
    r.counter = 1;
    return r;
  }
  const size_t prefix_len = utf8_length(py_basename(filename_prefix));
  std::optional<int64_t> best;
  for (const auto& entry : fs::directory_iterator(r.full_output_folder, ec)) {
    std::string name = entry.path().filename().string();
    size_t cut = utf8_prefix_bytes(name, prefix_len + 1);
    std::string_view head = std::string_view(name).substr(0, cut);
    if (head.empty() || utf8_last(head) != "_" || head.substr(0, head.size() - 1) != r.filename) continue;
    std::string_view rest = std::string_view(name).substr(cut);
    int64_t digits = py_int(rest.substr(0, rest.find('_'))).value_or(0);
    best = best ? std::max(*best, digits) : digits;
  }
  r.counter = best ? *best + 1 : 1;
  return r;
}

std::string json_ensure_ascii(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  auto hex4 = [&out](uint32_t u) {
    char b[8];
    std::snprintf(b, sizeof b, "\\u%04x", u);
    out += b;
  };
  for (size_t i = 0; i < json.size();) {
    unsigned char c = static_cast<unsigned char>(json[i]);
    if (c == 0x7F) {  // Python escapes everything outside ' '..'~' (controls are escaped already)
      hex4(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += char(c);
      ++i;
      continue;
    }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    uint32_t cp = len == 4 ? c & 0x07u : len == 3 ? c & 0x0Fu : len == 2 ? c & 0x1Fu : 0xFFFDu;
    for (int k = 1; k < len; ++k)
      cp = i + size_t(k) < json.size() ? (cp << 6) | (static_cast<unsigned char>(json[i + size_t(k)]) & 0x3Fu) : 0xFFFD;
    i += size_t(len);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      hex4(0xD800 + (cp >> 10));
      hex4(0xDC00 + (cp & 0x3FF));
    } else {
      hex4(cp);
    }
  }
  return out;
}

}  // namespace vkdream::packs::image
