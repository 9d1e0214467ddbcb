#include "model/safetensors.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tensor/half.h"

namespace vkdream::model {

size_t st_dtype_size(StDType t) {
  switch (t) {
    case StDType::F64:
    case StDType::I64:
      return 8;
    case StDType::F32:
    case StDType::I32:
      return 4;
    case StDType::F16:
    case StDType::BF16:
    case StDType::I16:
      return 2;
    default:
      return 1;
  }
}

namespace {
struct DTypeName {
  const char* name;
  StDType type;
};
constexpr DTypeName kDTypes[] = {{"F64", StDType::F64},         {"F32", StDType::F32},
                                 {"F16", StDType::F16},         {"BF16", StDType::BF16},
                                 {"I64", StDType::I64},         {"I32", StDType::I32},
                                 {"I16", StDType::I16},         {"I8", StDType::I8},
                                 {"U8", StDType::U8},           {"BOOL", StDType::BOOL},
                                 {"F8_E4M3", StDType::F8_E4M3}, {"F8_E5M2", StDType::F8_E5M2}};
}  // namespace

const char* st_dtype_name(StDType t) {
  for (auto& d : kDTypes)
    if (d.type == t) return d.name;
  return "?";
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) f->fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    f->fail("not a regular file");
  }
  size_t size = size_t(st.st_size);
  if (size < 8) {
    ::close(fd);
    f->fail("file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  }
  void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) f->fail(std::string("mmap failed: ") + std::strerror(errno));
  f->map_ = m;
  f->map_size_ = size;
  f->parse(static_cast<const uint8_t*>(m), size);
  return f;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::from_memory(const uint8_t* bytes, size_t size, std::string label) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = std::move(label);
  f->parse(bytes, size);
  return f;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) munmap(map_, map_size_);
}

void SafetensorsFile::fail(const std::string& rule) const {
  throw SafetensorsError("invalid safetensors file '" + path_ + "': " + rule);
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsFile::parse(const uint8_t* bytes, size_t size) {
  if (size < 8) fail("file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];  // little-endian u64
  if (n > kMaxHeaderBytes) fail("header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n > size - 8) fail("header length " + std::to_string(n) + " runs past the end of the file");

  simdjson::dom::parser parser;
  simdjson::padded_string json(reinterpret_cast<const char*>(bytes + 8), size_t(n));
  simdjson::dom::element root;
  if (auto err = parser.parse(json).get(root); err)
    fail(std::string("header is not valid UTF-8 JSON: ") + simdjson::error_message(err));
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) fail("header is not a JSON object");

  uint64_t data_size = size - 8 - n;
  std::vector<std::string> seen;
  for (auto field : obj) {
    std::string name(field.key);
    seen.push_back(name);
    if (name == "__metadata__") {
      simdjson::dom::object meta;
      if (field.value.get_object().get(meta)) fail("__metadata__ is not an object");
      for (auto m : meta) {
        std::string_view v;
        if (m.value.get_string().get(v)) fail("__metadata__ value of '" + std::string(m.key) + "' is not a string");
        metadata_[std::string(m.key)] = std::string(v);
      }
      continue;
    }
    simdjson::dom::object t;
    if (field.value.get_object().get(t)) fail("entry '" + name + "' is not an object");
    TensorInfo info;
    info.name = name;
    std::string_view dt;
    if (t["dtype"].get_string().get(dt)) fail("tensor '" + name + "' has no string dtype");
    bool known = false;
    for (auto& d : kDTypes)
      if (dt == d.name) {
        info.dtype = d.type;
        known = true;
      }
    if (!known) fail("tensor '" + name + "' has unknown dtype '" + std::string(dt) + "'");
    simdjson::dom::array shape;
    if (t["shape"].get_array().get(shape)) fail("tensor '" + name + "' has no shape array");
    uint64_t count = 1;
    bool overflow = false;
    for (auto d : shape) {
      int64_t v;
      if (d.get_int64().get(v) || v < 0) fail("tensor '" + name + "' has a negative or non-integer dimension");
      info.shape.push_back(v);
      if (v != 0 && count > UINT64_MAX / uint64_t(v)) overflow = true;
      else count *= uint64_t(v);
    }
    if (overflow || count > UINT64_MAX / st_dtype_size(info.dtype))
      fail("tensor '" + name + "' shape overflows 64 bits");
    simdjson::dom::array offs;
    if (t["data_offsets"].get_array().get(offs) || offs.size() != 2)
      fail("tensor '" + name + "' has no [begin, end] data_offsets");
    uint64_t be[2];
    int k = 0;
    for (auto o : offs)
      if (o.get_uint64().get(be[k++])) fail("tensor '" + name + "' has a non-integer data offset");
    info.begin = be[0];
    info.end = be[1];
    if (info.end < info.begin) fail("tensor '" + name + "' ends before it begins");
    if (info.end - info.begin != count * st_dtype_size(info.dtype))
      fail("tensor '" + name + "' occupies " + std::to_string(info.end - info.begin) + " bytes but its shape and " +
           "dtype need " + std::to_string(count * st_dtype_size(info.dtype)));
    if (info.end > data_size) fail("tensor '" + name + "' lies outside the file");
    tensors_.push_back(std::move(info));
  }
  std::sort(seen.begin(), seen.end());
  if (auto d = std::adjacent_find(seen.begin(), seen.end()); d != seen.end()) fail("duplicate tensor name '" + *d + "'");

  std::sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t at = 0;
  for (auto& t : tensors_) {
    if (t.begin != at)
      fail(t.begin < at ? "tensor '" + t.name + "' overlaps the previous tensor"
                        : "gap before tensor '" + t.name + "' (data offsets must be contiguous from 0)");
    at = t.end;
  }
  if (at != data_size)
    fail("data section is " + std::to_string(data_size) + " bytes but the tensors end at " + std::to_string(at));
  for (size_t i = 0; i < tensors_.size(); ++i) by_name_[tensors_[i].name] = i;
  data_ = bytes + 8 + n;
}

std::vector<float> SafetensorsFile::to_float(const TensorInfo& t) const {
  std::vector<float> out(size_t(t.numel()));
  const uint8_t* p = data(t);
  switch (t.dtype) {
    case StDType::F32:
      std::memcpy(out.data(), p, out.size() * 4);
      break;
    case StDType::F16:
      for (size_t i = 0; i < out.size(); ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = half_to_float(h);
      }
      break;
    case StDType::BF16:
      for (size_t i = 0; i < out.size(); ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        uint32_t x = uint32_t(h) << 16;
        std::memcpy(&out[i], &x, 4);
      }
      break;
    default:
      fail("tensor '" + t.name + "' has dtype " + st_dtype_name(t.dtype) + "; models load F32, F16 and BF16");
  }
  return out;
}

std::vector<int64_t> SafetensorsFile::to_int64(const TensorInfo& t) const {
  std::vector<int64_t> out(size_t(t.numel()));
  const uint8_t* p = data(t);
  for (size_t i = 0; i < out.size(); ++i) {
    switch (t.dtype) {
      case StDType::I64: {
        int64_t v;
        std::memcpy(&v, p + 8 * i, 8);
        out[i] = v;
        break;
      }
      case StDType::I32: {
        int32_t v;
        std::memcpy(&v, p + 4 * i, 4);
        out[i] = v;
        break;
      }
      case StDType::I16: {
        int16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        out[i] = v;
        break;
      }
      case StDType::I8:
        out[i] = int8_t(p[i]);
        break;
      case StDType::U8:
      case StDType::BOOL:
        out[i] = p[i];
        break;
      default:
        fail("tensor '" + t.name + "' has dtype " + st_dtype_name(t.dtype) + ", not an integer type");
    }
  }
  return out;
}

}  // namespace vkdream::model
