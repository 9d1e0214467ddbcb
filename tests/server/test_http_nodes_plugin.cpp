// Test-only node pack for the HTTP server tests: an image-saving output node (real PNG files in the output
// folder, ComfyUI's SaveImage naming and ui shape) that can run slowly and be interrupted, and a loader that
// checks an `image` input names a file in the input folder.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "media/png_writer.h"
#include "vkdream/plugin.hpp"

namespace {

std::string folder(const char* kind) {
  auto* paths = vkd::service<VkdPathsService>(VKD_SERVICE_PATHS);
  const char* d = paths ? paths->directory(vkd::host(), kind) : nullptr;
  if (!d) throw std::runtime_error(std::string("no ") + kind + " folder");
  return d;
}

void declare(vkd::Plugin& p) {
  p.node("TestHttpSave").category("test").output_node()
      .input_int("value", 0, 0, 255)
      .input_string("filename_prefix", "ComfyUI")
      .input_int("ticks", 0, 0, 100000)
      .input_int("tick_ms", 0, 0, 10000)
      .execute([](vkd::Context& c) {
        int64_t steps = c.get_int("ticks"), step_ms = c.get_int("tick_ms");
        for (int64_t s = 1; s <= steps; ++s) {
          c.throw_if_interrupted();
          std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
          c.progress(static_cast<uint64_t>(s), static_cast<uint64_t>(steps));
        }
        c.throw_if_interrupted();
        std::string dir = folder("output");
        std::string prefix = c.get_string("filename_prefix");
        std::string name;
        for (int counter = 1;; ++counter) {
          char num[16];
          std::snprintf(num, sizeof num, "%05d", counter);
          name = prefix + "_" + num + "_.png";
          if (!std::filesystem::exists(dir + "/" + name)) break;
        }
        std::vector<uint8_t> pixels(8 * 8 * 3, static_cast<uint8_t>(c.get_int("value")));
        vkdream::media::write_png_file(dir + "/" + name, pixels.data(), 8, 8, 3);
        c.set_ui_json("{\"images\": [{\"filename\": \"" + name + "\", \"subfolder\": \"\", \"type\": \"output\"}]}");
      });

  p.node("TestHttpLoadImage").category("test")
      .input_string("image", "")
      .output("INT", "bytes")
      .execute([](vkd::Context& c) {
        std::string path = folder("input") + "/" + c.get_string("image");
        std::ifstream f(path, std::ios::binary | std::ios::ate);
        if (!f) throw std::runtime_error("no input image " + c.get_string("image"));
        c.set_int(0, static_cast<int64_t>(f.tellg()) % 256);
      });
}

}  // namespace

VKD_PLUGIN("vkdtest_http_nodes", "1.0", declare)
