// The tiny SD1.5 checkpoint for sampling tests that run the real UNet: generated once next to the
// golden test's copy (<build>/tiny-sd15) or in VKDREAM_TINY_DIR, loaded once in f32.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "model/sd15_checkpoint.h"
#include "model/tiny_sd15.h"
#include "support/gpu_env.h"

namespace vkdream::test {

inline std::string tiny_dir() {
  const char* env = std::getenv("VKDREAM_TINY_DIR");
  if (env && *env) return env;
  auto exe = std::filesystem::read_symlink("/proc/self/exe");  // <build>/tests/vkdream_sampling_test
  return (exe.parent_path().parent_path() / "tiny-sd15").string();
}

inline const model::SD15Models& tiny_models() {
  context();  // the device context first: statics die in reverse order, so it outlives the models below
  static std::mutex mu;
  static std::optional<model::SD15Models> m;
  std::lock_guard<std::mutex> lock(mu);
  if (!m) {
    auto paths = model::ensure_tiny_sd15(tiny_dir());
    static vk::Stream s(context());
    m = model::load_sd15_checkpoint(s, paths.f32, DType::F32);
  }
  return *m;
}

}  // namespace vkdream::test
