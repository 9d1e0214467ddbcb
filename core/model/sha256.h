// SHA-256 (FIPS 180-4), streaming. Used to check generated and loaded tensors against recorded
// checksums (tiny-sd15.json) and for file fingerprints; not for anything security-relevant.
// Uses the x86 SHA extensions when the CPU has them (about 5x faster), else portable code.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace vkdream::model {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  // Finishes the hash; the object must be reset() before it is used again.
  std::array<uint8_t, 32> digest();
  std::string hex_digest();  // lowercase hex, 64 characters
  void reset();

 private:
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;  // bytes hashed so far
};

// sha256 of one buffer as lowercase hex.
std::string sha256_hex(const void* data, size_t size);

// Whether the CPU extensions are used; tests switch them off to check the portable code.
bool sha256_accelerated();
void sha256_force_portable(bool on);

}  // namespace vkdream::model
