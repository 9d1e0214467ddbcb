#include "safe_path.h"

#include <filesystem>
#include <system_error>

namespace vkdream::server {

namespace fs = std::filesystem;

namespace {

bool clean_relative(const std::string& s) {
  if (s.find('\0') != std::string::npos || s.find('\\') != std::string::npos) return false;
  fs::path p(s);
  if (p.is_absolute() || p.has_root_name() || p.has_root_directory()) return false;
  for (const auto& part : p)
    if (part == "..") return false;
  return true;
}

bool inside(const fs::path& base, const fs::path& p) {
  auto b = base.begin(), e = base.end();
  auto q = p.begin();
  for (; b != e; ++b, ++q) {
    if (q == p.end() || *q != *b) return false;
  }
  return true;
}

}  // namespace

bool is_safe_file_component(const std::string& s) {
  if (s.empty() || s.size() > 128 || s[0] == '.') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

std::optional<std::string> resolve_in_folder(const std::string& folder, const std::string& subfolder,
                                             const std::string& name, bool must_exist) {
  if (folder.empty() || name.empty() || !clean_relative(subfolder) || !clean_relative(name)) return std::nullopt;
  if (fs::path(name).filename().string() != name && must_exist == false) {
    // writes only ever target a plain name inside (sub)folder
    return std::nullopt;
  }
  std::error_code ec;
  fs::path base = fs::canonical(folder, ec);
  if (ec) return std::nullopt;
  fs::path target = base / subfolder / name;
  fs::path resolved;
  if (must_exist) {
    resolved = fs::canonical(target, ec);
    if (ec || !fs::is_regular_file(resolved, ec)) return std::nullopt;
  } else {
    fs::path parent = fs::canonical(target.parent_path(), ec);
    if (ec) return std::nullopt;
    if (fs::is_symlink(target, ec)) return std::nullopt;
    resolved = parent / target.filename();
  }
  if (!inside(base, resolved)) return std::nullopt;
  return resolved.string();
}

}  // namespace vkdream::server
