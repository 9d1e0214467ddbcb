#include "model/embeddings.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "model/safetensors.h"
#include "model/sd15_config.h"

namespace vkdream::model {
namespace fs = std::filesystem;

namespace {

bool ends_with_ci(const std::string& s, const std::string& e) {
  if (s.size() < e.size()) return false;
  for (size_t i = 0; i < e.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - e.size() + i])) != e[i]) return false;
  return true;
}

// expand_directory_list: each folder and every folder below it (symlinks followed). ComfyUI keeps them in a
// set (no defined order); we search them sorted.
std::vector<fs::path> expand_directories(const std::vector<std::string>& dirs) {
  std::vector<fs::path> out;
  for (const auto& d : dirs) {
    std::error_code ec;
    fs::path root = fs::absolute(d, ec).lexically_normal();
    if (ec) continue;
    out.push_back(root);
    if (!fs::is_directory(root, ec)) continue;
    for (fs::recursive_directory_iterator it(root, fs::directory_options::follow_directory_symlink |
                                                       fs::directory_options::skip_permission_denied,
                                             ec),
         end;
         !ec && it != end; it.increment(ec))
      if (it->is_directory(ec)) out.push_back(it->path().lexically_normal());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool inside(const fs::path& dir, const fs::path& p) {
  auto d = dir.begin(), q = p.begin();
  for (; d != dir.end(); ++d, ++q) {
    if (d->empty()) continue;  // trailing separator
    if (q == p.end() || *d != *q) return false;
  }
  return true;
}

}  // namespace

Embedding load_embedding_file(const std::string& path, const std::string& embed_key) {
  if (!ends_with_ci(path, ".safetensors"))
    throw std::runtime_error("embedding '" + path + "': only .safetensors embeddings are supported");
  auto file = SafetensorsFile::open(path);
  if (file->tensors().empty()) throw SafetensorsError("embedding '" + path + "' holds no tensor");
  // safetensors' load_file returns the tensors sorted by name; ComfyUI takes embed_key, else the first.
  const TensorInfo* t = file->find(embed_key);
  if (!t) {
    t = &file->tensors().front();
    for (const auto& x : file->tensors())
      if (x.name < t->name) t = &x;
  }
  if (t->shape.empty() || t->shape.size() > 2)
    throw std::runtime_error("embedding '" + path + "': tensor '" + t->name + "' has shape " +
                             shape_string(t->shape) + ", expected [vectors, width] or [width]");
  Embedding e;
  e.path = path;
  e.rows = t->shape.size() == 2 ? t->shape[0] : 1;
  e.width = t->shape.back();
  e.values = file->to_float(*t);
  return e;
}

EmbeddingLibrary::EmbeddingLibrary(std::vector<std::string> directories, std::string embed_key)
    : dirs_(std::move(directories)), embed_key_(std::move(embed_key)) {}

std::optional<std::string> EmbeddingLibrary::find_file(const std::string& name) const {
  if (name.empty()) return std::nullopt;
  for (const auto& dir : expand_directories(dirs_)) {
    fs::path p = (dir / name).lexically_normal();
    if (!inside(dir, p)) continue;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p.string();
    for (const char* ext : {".safetensors", ".pt", ".bin"}) {
      fs::path q = p.string() + ext;
      if (fs::is_regular_file(q, ec)) return q.string();
    }
  }
  return std::nullopt;
}

std::optional<std::pair<int, int>> EmbeddingLibrary::resolve(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  // Found embeddings are kept; a name not found (or not loadable) is looked up again next time, as ComfyUI
  // reads the folder on every prompt.
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    auto path = find_file(name);
    if (!path) return std::nullopt;
    try {
      auto e = std::make_unique<Embedding>(load_embedding_file(*path, embed_key_));
      e->name = name;
      it = by_name_.emplace(name, int(items_.size())).first;
      items_.push_back(std::move(e));
    } catch (const std::exception& ex) {
      warnings_.push_back(std::string("error loading embedding, skipping loading: ") + name + ": " + ex.what());
      return std::nullopt;
    }
  }
  return std::make_pair(it->second, int(items_[size_t(it->second)]->rows));
}

EmbeddingProvider EmbeddingLibrary::provider() {
  return [this](const std::string& name) { return resolve(name); };
}

const Embedding& EmbeddingLibrary::at(int index) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (index < 0 || size_t(index) >= items_.size())
    throw std::out_of_range("embedding index " + std::to_string(index) + " was never handed out");
  return *items_[size_t(index)];
}

std::vector<std::string> EmbeddingLibrary::warnings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return warnings_;
}

}  // namespace vkdream::model
