// Test-only node pack: small integer nodes for execution, caching, progress, interrupt and error tests.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "vkdream/plugin.hpp"

namespace {

struct Latent {
  int64_t value;
};

void declare(vkd::Plugin& p) {
  p.node("TestConstInt").category("test").input_int("value", 0, -1000000, 1000000).output("INT", "value")
      .execute([](vkd::Context& c) { c.set_int(0, c.get_int("value")); });

  p.node("TestAdd").category("test")
      .input("a", "INT", VKD_INPUT_REQUIRED, [](VkdInputDecl& d) { d.flags = VKD_INPUT_FLAG_FORCE_INPUT; })
      .input_int("b", 0, -1000000, 1000000)
      .output("INT", "sum")
      .execute([](vkd::Context& c) { c.set_int(0, c.get_int("a") + c.get_int("b")); });

  p.node("TestOutput").category("test").output_node()
      .input("value", "INT", VKD_INPUT_REQUIRED, [](VkdInputDecl& d) { d.flags = VKD_INPUT_FLAG_FORCE_INPUT; })
      .input_string("label", "out", false, VKD_INPUT_OPTIONAL)
      .execute([](vkd::Context& c) {
        std::string label = c.has("label") ? c.get_string("label") : "out";
        c.set_ui_json("{\"value\": [" + std::to_string(c.get_int("value")) + "], \"label\": [\"" + label + "\"]}");
      });

  p.node("TestThrow").category("test").input_int("value", 0, -10, 10).output("INT")
      .execute([](vkd::Context& c) -> void {
        if (c.get_int("value") == 1) throw std::invalid_argument("bad value 1");
        throw std::runtime_error("boom from TestThrow");
      });

  // Reports progress each step and stops when the host says the prompt was interrupted.
  p.node("TestProgress").category("test").input_int("steps", 3, 1, 100).output("INT")
      .execute([](vkd::Context& c) {
        int64_t steps = c.get_int("steps");
        for (int64_t s = 1; s <= steps; ++s) {
          c.throw_if_interrupted();
          c.progress(static_cast<uint64_t>(s), static_cast<uint64_t>(steps));
        }
        c.set_int(0, steps);
      });

  // Objects: a LATENT whose reported size is `bytes`, and an output node reading it back.
  p.node("TestMakeLatent").category("test").input_int("value", 0, -1000, 1000)
      .input_int("bytes", 1000, 0, 1000000000).output("LATENT")
      .execute([](vkd::Context& c) {
        c.set_object(0, vkd::make_object<Latent>("LATENT", "vkdtest.latent/1",
                                                 static_cast<uint64_t>(c.get_int("bytes")), Latent{c.get_int("value")}));
      });
  p.node("TestLatentValue").category("test").input("samples", "LATENT").output("INT")
      .execute([](vkd::Context& c) { c.set_int(0, c.get<Latent>("samples", "vkdtest.latent/1").value); });

  p.node("TestFloatEcho").category("test").input_float("x", 0.5, -1.0, 1.0, 0.01).input_bool("flag", false)
      .input_combo("mode", {"a", "b", "c"}).input_string("text", "").output("FLOAT").output("BOOLEAN")
      .output("STRING")
      .execute([](vkd::Context& c) {
        c.set_float(0, c.get_float("x"));
        c.set_bool(1, c.get_bool("flag"));
        c.set_string(2, c.get_string("mode") + ":" + c.get_string("text"));
      });

  // IS_CHANGED: the fingerprint is the environment variable VKDTEST_FINGERPRINT.
  p.node("TestFingerprint").category("test").input_int("value", 0, -1000, 1000).output("INT")
      .fingerprint([](vkd::Context& c) {
        const char* v = std::getenv("VKDTEST_FINGERPRINT");
        c.set_fingerprint(v ? v : "");
      })
      .execute([](vkd::Context& c) { c.set_int(0, c.get_int("value")); });

  p.node("TestAlwaysChanged").category("test").always_changed().input_int("value", 0, -1000, 1000).output("INT")
      .execute([](vkd::Context& c) { c.set_int(0, c.get_int("value")); });

  // VALIDATE_INPUTS on "name": only "ok" passes.
  p.node("TestValidated").category("test").input_string("name", "ok").input_int("n", 0, 0, 10).output("INT")
      .validate({"name"}, [](vkd::Context& c) -> std::string {
        std::string n = c.get_string("name");
        return n == "ok" ? "" : "Invalid name: " + n;
      })
      .execute([](vkd::Context& c) { c.set_int(0, c.get_int("n")); });

  p.node("TestSeed").category("test")
      .input("seed", "INT", VKD_INPUT_REQUIRED, [](VkdInputDecl& d) {
        d.flags = VKD_INPUT_FLAG_DEFAULT | VKD_INPUT_FLAG_MIN | VKD_INPUT_FLAG_MAX | VKD_INPUT_FLAG_UNSIGNED;
        d.int_max = -1;  // 0xffffffffffffffff
      })
      .extra_json("\"control_after_generate\": true")
      .output("INT")
      .execute([](vkd::Context& c) { c.set_int(0, static_cast<int64_t>(c.get_uint("seed") >> 1)); });
}

}  // namespace

VKD_PLUGIN("vkdtest_nodes", "1.0", declare)
