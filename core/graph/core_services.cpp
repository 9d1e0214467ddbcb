#include "graph/core_services.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>


#ifndef VKDREAM_SOURCE_ASSETS_DIR
#define VKDREAM_SOURCE_ASSETS_DIR ""
#endif

namespace vkdream::graph {

namespace fs = std::filesystem;

CoreServices::CoreServices(Host& host) : host_(host) {}
CoreServices::~CoreServices() = default;


vk::Context& CoreServices::context() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ctx_) {
    ctx_ = std::make_unique<vk::Context>();
    host_.log(VKD_LOG_INFO, "core", "compute device: " + ctx_->caps().name);
  }
  return *ctx_;
}

bool CoreServices::has_context() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ctx_ != nullptr;
}

const model::CLIPTokenizer& CoreServices::clip_tokenizer() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!tokenizer_) tokenizer_ = std::make_unique<model::CLIPTokenizer>(model::CLIPTokenizer::load(clip_assets_dir()));
  return *tokenizer_;
}

DType CoreServices::weight_dtype() {
  if (const char* e = std::getenv("VKDREAM_WEIGHT_DTYPE")) {
    std::string v = e;
    if (v == "f16" || v == "fp16") return DType::F16;
    if (v == "f32" || v == "fp32") return DType::F32;
  }
  return context().caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU ? DType::F32 : DType::F16;
}

std::string clip_assets_dir() {
  std::error_code ec;
  if (const char* e = std::getenv("VKDREAM_ASSETS_DIR"); e && *e) return (fs::path(e) / "clip").string();
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = exe.parent_path().parent_path() / "share" / "vkdream" / "assets" / "clip";
    if (fs::exists(installed / "vocab.json", ec)) return installed.string();
  }
  return (fs::path(VKDREAM_SOURCE_ASSETS_DIR) / "clip").string();
}

}  // namespace vkdream::graph
