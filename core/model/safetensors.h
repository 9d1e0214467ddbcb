// A validated, memory-mapped .safetensors file. Every rule of reliability.md ("Files the server
// reads") is checked before any tensor byte is used; a bad file is a SafetensorsError that names
// the file and the rule, never a crash or an out-of-bounds read.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vkdream::model {

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The dtypes the safetensors format defines; models load F32, F16 and BF16.
enum class StDType : uint8_t { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 };
size_t st_dtype_size(StDType t);
const char* st_dtype_name(StDType t);

struct TensorInfo {
  std::string name;
  StDType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range inside the data section
  int64_t numel() const;
};

constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;

class SafetensorsFile {
 public:
  // Maps and validates `path`. Throws SafetensorsError.
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);
  // Validates a file image already in memory (tests, fuzzing); `bytes` must outlive the object.
  static std::unique_ptr<SafetensorsFile> from_memory(const uint8_t* bytes, size_t size, std::string label);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in data order
  const TensorInfo* find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The tensor's bytes inside the mapping (validated to lie inside the file).
  const uint8_t* data(const TensorInfo& t) const { return data_ + t.begin; }
  // The tensor's values converted to float (F32, F16, BF16); SafetensorsError for other dtypes.
  std::vector<float> to_float(const TensorInfo& t) const;
  // Integer tensors (I64, I32, I16, I8, U8, BOOL) as int64; SafetensorsError for float dtypes.
  std::vector<int64_t> to_int64(const TensorInfo& t) const;

 private:
  SafetensorsFile() = default;
  void parse(const uint8_t* bytes, size_t size);
  [[noreturn]] void fail(const std::string& rule) const;

  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  const uint8_t* data_ = nullptr;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> by_name_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace vkdream::model
