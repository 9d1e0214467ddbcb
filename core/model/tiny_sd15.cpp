// The tiny SD1.5 checkpoint generator (shared/docs/tiny-checkpoint.md, sections 3 and 4).
#include "model/tiny_sd15.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>

#include "tensor/half.h"

namespace vkdream::model {

static_assert(std::endian::native == std::endian::little, "the file writer stores host-order bytes");

namespace {
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x00000100000001b3ull;
constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ull;
constexpr int64_t kKMin = 512;
constexpr int kNormWeightE = 10;

inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t isqrt(uint64_t n) {
  uint64_t r = uint64_t(std::sqrt(double(n)));
  while (r * r > n) --r;
  while ((r + 1) * (r + 1) <= n) ++r;
  return r;
}

int schedule_index(const std::string& name) {
  const auto& names = sd15_schedule_buffer_names();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw std::invalid_argument("not a schedule buffer: " + name);
  return int(it - names.begin());
}

// The schedule buffers rounded to float32 (computed once).
const std::vector<std::vector<float>>& schedule_f32() {
  static const std::vector<std::vector<float>> kF32 = [] {
    std::vector<std::vector<float>> out;
    for (const auto& v : tiny_sd15_schedule_f64()) out.emplace_back(v.begin(), v.end());  // round to nearest even
    return out;
  }();
  return kF32;
}

void append_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
  size_t at = out.size();
  out.resize(at + n);
  std::memcpy(out.data() + at, p, n);
}

// Appends one tensor's bytes to the F32 and/or F16 data sections.
void append_tensor(const SD15Tensor& t, std::vector<uint8_t>* d32, std::vector<uint8_t>* d16) {
  if (t.role == SD15Role::PositionIds) {
    int64_t n = 1;
    for (auto d : t.shape) n *= d;
    for (int64_t i = 0; i < n; ++i) {
      if (d32) append_bytes(*d32, &i, 8);
      if (d16) append_bytes(*d16, &i, 8);
    }
    return;
  }
  std::vector<float> v = tiny_sd15_values(t);
  if (d32) append_bytes(*d32, v.data(), v.size() * 4);
  if (d16) {
    size_t at = d16->size();
    d16->resize(at + v.size() * 2);
    uint8_t* p = d16->data() + at;
    for (size_t i = 0; i < v.size(); ++i) {
      uint16_t h = float_to_half(v[i]);
      std::memcpy(p + 2 * i, &h, 2);
    }
  }
}

size_t tensor_bytes(const SD15Tensor& t, TinyPrecision p) {
  size_t n = 1;
  for (auto d : t.shape) n *= size_t(d);
  size_t es = t.role == SD15Role::PositionIds ? 8 : p == TinyPrecision::F32 ? 4 : 2;
  return n * es;
}

std::string header_json(const std::vector<SD15Tensor>& ts, TinyPrecision p,
                        const std::string& description = kTinySD15Description) {
  std::string h = std::string("{\"__metadata__\":{\"format\":\"pt\",\"description\":\"") + description + "\"}";
  uint64_t off = 0;
  for (const auto& t : ts) {
    const char* dt = t.role == SD15Role::PositionIds ? "I64" : p == TinyPrecision::F32 ? "F32" : "F16";
    uint64_t end = off + tensor_bytes(t, p);
    h += ",\"" + t.name + "\":{\"dtype\":\"" + dt + "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i) {
      if (i) h += ',';
      h += std::to_string(t.shape[i]);
    }
    h += "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(end) + "]}";
    off = end;
  }
  h += "}";
  h.append((8 - h.size() % 8) % 8, ' ');
  return h;
}

std::vector<uint8_t> image_start(const std::vector<SD15Tensor>& ts, TinyPrecision p) {
  std::string h = header_json(ts, p);
  size_t data = 0;
  for (const auto& t : ts) data += tensor_bytes(t, p);
  std::vector<uint8_t> img;
  img.reserve(8 + h.size() + data);
  uint64_t n = h.size();
  append_bytes(img, &n, 8);
  append_bytes(img, h.data(), h.size());
  return img;
}

// Writes `path` through a temporary file renamed at the end, so a concurrent reader never sees a partial file.
void write_atomically(const std::string& path, const std::function<void(std::ofstream&)>& fill) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot create '" + tmp + "'");
    fill(f);
    f.close();
    if (!f) {
      std::filesystem::remove(tmp);
      throw std::runtime_error("cannot write '" + tmp + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  }
}

void write_file(const std::string& path, const std::vector<uint8_t>& img) {
  write_atomically(path, [&](std::ofstream& f) {
    f.write(reinterpret_cast<const char*>(img.data()), std::streamsize(img.size()));
  });
}

}  // namespace

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = kFnvOffset;
  for (unsigned char b : bytes) h = (h ^ b) * kFnvPrime;
  return h;
}

uint64_t splitmix64_output(uint64_t seed, uint64_t i) { return mix(seed + (i + 1) * kGamma); }

TinyScale tiny_scale_for(SD15Role role, int64_t D) {
  TinyScale s;
  s.D = D;
  s.c = role == SD15Role::NormWeight ? 1 : 0;
  if (role == SD15Role::NormWeight) {
    s.e = kNormWeightE;
  } else {
    if (D <= 0 || D > (int64_t(1) << 40)) throw std::invalid_argument("tiny_scale_for: D out of range");
    while (uint64_t(kKMin * kKMin) * uint64_t(D) > 3ull << (2 * s.e)) ++s.e;
  }
  s.K = int64_t(isqrt((3ull << (2 * s.e)) / uint64_t(D)));
  return s;
}

TinyScale tiny_scale(const SD15Tensor& t) {
  switch (t.role) {
    case SD15Role::Weight: {
      bool conv_out = t.name == "first_stage_model.encoder.conv_out.weight" ||
                      t.name == "first_stage_model.decoder.conv_out.weight";
      return tiny_scale_for(t.role, conv_out ? 4 * t.fan_in : t.fan_in);
    }
    case SD15Role::Bias:
    case SD15Role::NormBias:
      return tiny_scale_for(t.role, 2500);
    case SD15Role::NormWeight:
      return tiny_scale_for(t.role, 400);
    case SD15Role::TokenEmbedding:
      return tiny_scale_for(t.role, 1);
    case SD15Role::PositionEmbedding:
      return tiny_scale_for(t.role, 4);
    default:
      throw std::invalid_argument("tensor '" + t.name + "' is not generated (role " + sd15_role_name(t.role) + ")");
  }
}

// The layout sorted by name (byte order), as safetensors files store it.
std::vector<SD15Tensor> sorted_layout(const SD15Config& cfg) {
  auto ts = sd15_tensor_layout(cfg);
  std::sort(ts.begin(), ts.end(), [](const SD15Tensor& a, const SD15Tensor& b) { return a.name < b.name; });
  return ts;
}

std::vector<SD15Tensor> tiny_sd15_tensors() { return sorted_layout(tiny_sd15_config()); }

std::vector<std::vector<double>> tiny_sd15_schedule_f64() {
  constexpr int T = 1000;
  const double s0 = std::sqrt(0.00085), s1 = std::sqrt(0.012), step = (s1 - s0) / (T - 1);
  std::vector<double> betas(T), alphas(T), ac(T), ac_prev(T);
  for (int t = 0; t < T; ++t) {
    double r = t == T - 1 ? s1 : double(t) * step + s0;  // numpy.linspace(s0, s1, T)
    betas[t] = r * r;
    alphas[t] = 1.0 - betas[t];
    ac[t] = t == 0 ? alphas[0] : ac[t - 1] * alphas[t];
    ac_prev[t] = t == 0 ? 1.0 : ac[t - 1];
  }
  std::vector<std::vector<double>> out(12, std::vector<double>(T));
  for (int t = 0; t < T; ++t) {
    double pv = (betas[t] * (1.0 - ac_prev[t])) / (1.0 - ac[t]);
    out[0][t] = betas[t];
    out[1][t] = ac[t];
    out[2][t] = ac_prev[t];
    out[3][t] = std::sqrt(ac[t]);
    out[4][t] = std::sqrt(1.0 - ac[t]);
    out[5][t] = std::log(1.0 - ac[t]);
    out[6][t] = std::sqrt(1.0 / ac[t]);
    out[7][t] = std::sqrt(1.0 / ac[t] - 1.0);
    out[8][t] = pv;
    out[9][t] = std::log(std::max(pv, 1e-20));
    out[10][t] = (betas[t] * std::sqrt(ac_prev[t])) / (1.0 - ac[t]);
    out[11][t] = ((1.0 - ac_prev[t]) * std::sqrt(alphas[t])) / (1.0 - ac[t]);
  }
  return out;
}

std::vector<float> tiny_sd15_values(const SD15Tensor& t) {
  if (t.role == SD15Role::Schedule) return schedule_f32()[size_t(schedule_index(t.name))];
  TinyScale s = tiny_scale(t);  // throws for PositionIds
  size_t n = 1;
  for (auto d : t.shape) n *= size_t(d);
  std::vector<float> v(n);
  const uint64_t h0 = fnv1a64(t.name);
  const double scale = std::ldexp(1.0, -s.e);
  uint64_t state = h0;
  for (size_t i = 0; i < n; ++i) {
    state += kGamma;
    v[i] = float(double(s.c) + double(tiny_k(mix(state), s.K)) * scale);  // exact
  }
  return v;
}

std::vector<uint8_t> tiny_sd15_tensor_bytes(const SD15Tensor& t, TinyPrecision p) {
  std::vector<uint8_t> out;
  out.reserve(tensor_bytes(t, p));
  append_tensor(t, p == TinyPrecision::F32 ? &out : nullptr, p == TinyPrecision::F16 ? &out : nullptr);
  return out;
}

std::vector<uint8_t> tiny_sd15_file_image(TinyPrecision p) {
  auto ts = tiny_sd15_tensors();
  std::vector<uint8_t> img = image_start(ts, p);
  for (const auto& t : ts)
    append_tensor(t, p == TinyPrecision::F32 ? &img : nullptr, p == TinyPrecision::F16 ? &img : nullptr);
  return img;
}

TinySD15Paths write_tiny_sd15(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create directory '" + dir + "': " + ec.message());
  TinySD15Paths paths{(std::filesystem::path(dir) / kTinySD15F32Name).string(),
                      (std::filesystem::path(dir) / kTinySD15F16Name).string()};
  // Both images in one pass over the generator.
  auto ts = tiny_sd15_tensors();
  std::vector<uint8_t> img32 = image_start(ts, TinyPrecision::F32), img16 = image_start(ts, TinyPrecision::F16);
  for (const auto& t : ts) append_tensor(t, &img32, &img16);
  write_file(paths.f32, img32);
  write_file(paths.f16, img16);
  return paths;
}

TinySD15Paths ensure_tiny_sd15(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code e1, e2;
  fs::path a = fs::path(dir) / kTinySD15F32Name, b = fs::path(dir) / kTinySD15F16Name;
  if (fs::file_size(a, e1) == kTinySD15F32Bytes && !e1 && fs::file_size(b, e2) == kTinySD15F16Bytes && !e2)
    return {a.string(), b.string()};
  return write_tiny_sd15(dir);
}

uint64_t write_generated_sd15(const std::string& path, const SD15Config& cfg, TinyPrecision p,
                              const std::string& description) {
  const auto ts = sorted_layout(cfg);
  const std::string h = header_json(ts, p, description);
  uint64_t total = 8 + h.size();
  write_atomically(path, [&](std::ofstream& f) {
    uint64_t n = h.size();
    f.write(reinterpret_cast<const char*>(&n), 8);
    f.write(h.data(), std::streamsize(h.size()));
    for (const auto& t : ts) {  // one tensor in memory at a time
      std::vector<uint8_t> bytes = tiny_sd15_tensor_bytes(t, p);
      f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
      total += bytes.size();
    }
  });
  return total;
}

}  // namespace vkdream::model
