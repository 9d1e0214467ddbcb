// Declares TestConstInt again (a duplicate of test_nodes) and one class of its own.
#include "vkdream/plugin.hpp"

static void declare(vkd::Plugin& p) {
  p.node("TestConstInt").input_int("value", 0, 0, 1).output("INT").execute([](vkd::Context& c) { c.set_int(0, 7); });
  p.node("TestDupOnly").input_int("value", 0, 0, 1).output("INT").execute([](vkd::Context& c) { c.set_int(0, 1); });
}

VKD_PLUGIN("vkdtest_dup", "1.0", declare)
