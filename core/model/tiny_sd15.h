// The tiny SD1.5 test checkpoint of shared/docs/tiny-checkpoint.md, rebuilt bit for bit: the SD1.5
// single-file key layout (sd15_tensor_layout(tiny_sd15_config())), narrow widths, weights from an
// integer generator (FNV-1a 64 seed per name, SplitMix64 stream, value = c + k * 2^-e). The two
// files it writes are byte-identical to the reference generator's (make_tiny_sd15.py):
//   tiny-sd15.safetensors       F32 (position_ids I64), 68 676 644 bytes
//   tiny-sd15-fp16.safetensors  F16 (position_ids I64), 34 402 550 bytes
//
//   auto paths = write_tiny_sd15(dir);                  // about a second
//   auto file = SafetensorsFile::open(paths.f32);
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/sd15_config.h"

namespace vkdream::model {

inline constexpr const char* kTinySD15F32Name = "tiny-sd15.safetensors";
inline constexpr const char* kTinySD15F16Name = "tiny-sd15-fp16.safetensors";
inline constexpr uint64_t kTinySD15F32Bytes = 68676644;
inline constexpr uint64_t kTinySD15F16Bytes = 34402550;
inline constexpr const char* kTinySD15Description =
    "tiny SD1.5-layout test checkpoint, generated weights, not a real model; spec: tiny-checkpoint.md";

// Generator primitives (section 3 of the spec).
uint64_t fnv1a64(std::string_view bytes);
uint64_t splitmix64_output(uint64_t seed, uint64_t i);  // output number i (0-based) of SplitMix64(seed)
inline int64_t tiny_k(uint64_t x, int64_t K) { return int64_t((((x >> 32) * uint64_t(2 * K + 1)) >> 32)) - K; }

// Generator parameters of one generated tensor: value = c + k * 2^-e, k uniform in [-K, K].
struct TinyScale {
  int64_t D = 0;  // target variance is 1/D
  int c = 0;      // 1 for norm weights, else 0
  int e = 0;
  int64_t K = 0;
};
// For roles Weight..PositionEmbedding (not PositionIds / Schedule). Uses the name for the spec's
// one exception: D = 4 * fan_in for first_stage_model.{encoder,decoder}.conv_out.weight.
TinyScale tiny_scale(const SD15Tensor& t);
TinyScale tiny_scale_for(SD15Role role, int64_t D);

// The 983 tensors of the tiny checkpoint, sorted by name (byte order) as the files store them.
std::vector<SD15Tensor> tiny_sd15_tensors();

enum class TinyPrecision { F32, F16 };

// Values of one tensor in row-major order (every role but PositionIds); exact in F32 and F16.
std::vector<float> tiny_sd15_values(const SD15Tensor& t);
// The 12 DDPM schedule buffers in float64 (sd15_schedule_buffer_names() order), before rounding.
std::vector<std::vector<double>> tiny_sd15_schedule_f64();
// The tensor's raw little-endian bytes as stored in the F32 or F16 file (int64 for position_ids).
std::vector<uint8_t> tiny_sd15_tensor_bytes(const SD15Tensor& t, TinyPrecision p);

// A whole .safetensors file image (header and data), byte-identical to the reference file.
std::vector<uint8_t> tiny_sd15_file_image(TinyPrecision p);

struct TinySD15Paths {
  std::string f32, f16;
};
// Writes both files into `dir` (created if needed). Each file is written to a temporary name and
// renamed, so a concurrent reader never sees a partial file. Throws std::runtime_error on I/O errors.
TinySD15Paths write_tiny_sd15(const std::string& dir);
// As write_tiny_sd15, but keeps files that already exist with the right sizes.
TinySD15Paths ensure_tiny_sd15(const std::string& dir);

// Any SD1.x architecture filled by the same generator (for benchmarks: write_generated_sd15(path,
// sd15_base_config(), F16) is a full-size SD1.5-shaped checkpoint of random-looking weights, 2.1 GB). Streams
// tensor by tensor into a temporary file renamed at the end; returns the file size.
uint64_t write_generated_sd15(const std::string& path, const SD15Config& cfg, TinyPrecision p,
                              const std::string& description);

}  // namespace vkdream::model
