// The plugin loader with real shared libraries: ABI refusal, duplicates, dlopen failures, /object_info.
#include <filesystem>
#include <fstream>

#include "graph/graph_test_util.h"

namespace vkdream::graph::test {
namespace {

bool any_line(const std::vector<std::string>& lines, std::initializer_list<std::string> parts) {
  for (const auto& l : lines) {
    bool all = true;
    for (const auto& p : parts) all = all && l.find(p) != std::string::npos;
    if (all) return true;
  }
  return false;
}

struct LoaderFixture : ::testing::Test {
  Host host;
  NodeRegistry registry{host.c_host()};
  std::vector<std::string> log;
  void SetUp() override {
    host.set_log([this](int, const std::string&, const std::string& m) { log.push_back(m); });
  }
};

TEST_F(LoaderFixture, LoadsTheTestPack) {
  PluginLoader loader(registry, host);
  ASSERT_TRUE(loader.load_file(plugin_path("vkdtest_nodes")));
  ASSERT_EQ(loader.plugins().size(), 1u);
  EXPECT_EQ(loader.plugins()[0].name, "vkdtest_nodes");
  EXPECT_EQ(loader.plugins()[0].abi_major, static_cast<uint32_t>(VKD_ABI_MAJOR));
  EXPECT_NE(registry.find("TestAdd"), nullptr);
  EXPECT_EQ(registry.find("TestAdd")->origin, plugin_path("vkdtest_nodes"));
  EXPECT_TRUE(loader.errors().empty());
}

TEST_F(LoaderFixture, RefusesAnotherAbiMajorNamingFileAndVersions) {
  PluginLoader loader(registry, host);
  EXPECT_FALSE(loader.load_file(plugin_path("vkdtest_abi_major")));
  std::string major_plugin = std::to_string(VKD_ABI_MAJOR + 1) + ".0";
  std::string host_v = std::to_string(VKD_ABI_MAJOR) + "." + std::to_string(VKD_ABI_MINOR);
  EXPECT_TRUE(any_line(loader.errors(), {"vkdtest_abi_major.so", "refused", major_plugin, host_v}))
      << (loader.errors().empty() ? "" : loader.errors()[0]);
  EXPECT_TRUE(any_line(log, {"vkdtest_abi_major.so", major_plugin}));
  EXPECT_EQ(registry.size(), 0u);
}

TEST_F(LoaderFixture, RefusesANewerAbiMinor) {
  PluginLoader loader(registry, host);
  EXPECT_FALSE(loader.load_file(plugin_path("vkdtest_abi_minor")));
  EXPECT_TRUE(any_line(loader.errors(), {"vkdtest_abi_minor.so", "minor is newer"}));
}

TEST_F(LoaderFixture, DuplicateClassNamesBothFilesAndKeepsTheFirst) {
  PluginLoader loader(registry, host);
  ASSERT_TRUE(loader.load_file(plugin_path("vkdtest_nodes")));
  EXPECT_TRUE(loader.load_file(plugin_path("vkdtest_dup")));  // its other class still loads
  EXPECT_TRUE(any_line(loader.errors(), {"TestConstInt", "vkdtest_nodes.so", "vkdtest_dup.so"}));
  EXPECT_EQ(registry.find("TestConstInt")->origin, plugin_path("vkdtest_nodes"));
  EXPECT_NE(registry.find("TestDupOnly"), nullptr);
}

TEST_F(LoaderFixture, ADirectoryScanSkipsBrokenPluginsAndLoadsTheRest) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("vkdtest_plugins_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* p : {"vkdtest_nodes", "vkdtest_unresolved", "vkdtest_abi_major"})
    fs::copy_file(plugin_path(p), dir / (std::string(p) + ".so"), fs::copy_options::overwrite_existing);
  std::ofstream(dir / "not_a_library.so") << "this is text, not ELF";
  std::ofstream(dir / "README.txt") << "ignored: not a library name";
  PluginLoader loader(registry, host);
  loader.load_paths(PluginLoader::split_path_list(dir.string() + "::/nonexistent/vkd_plugins"));
  EXPECT_EQ(loader.plugins().size(), 1u);
  EXPECT_NE(registry.find("TestAdd"), nullptr);
  EXPECT_TRUE(any_line(loader.errors(), {"vkdtest_unresolved.so", "failed to load", "vkdtest_symbol_that_does_not_exist"}));
  EXPECT_TRUE(any_line(loader.errors(), {"not_a_library.so", "failed to load"}));
  EXPECT_TRUE(any_line(loader.errors(), {"vkdtest_abi_major.so", "refused"}));
  EXPECT_TRUE(any_line(loader.errors(), {"/nonexistent/vkd_plugins", "does not exist"}));
  EXPECT_EQ(loader.errors().size(), 4u);
  fs::remove_all(dir);
}

TEST_F(LoaderFixture, PathListFromEnvironment) {
  setenv("VKDREAM_PLUGIN_PATH_TEST", "/a:/b::/c", 1);
  EXPECT_EQ(PluginLoader::paths_from_env("VKDREAM_PLUGIN_PATH_TEST"), (std::vector<std::string>{"/a", "/b", "/c"}));
  unsetenv("VKDREAM_PLUGIN_PATH_TEST");
}

TEST_F(LoaderFixture, ObjectInfoMirrorsComfyUi) {
  PluginLoader loader(registry, host);
  ASSERT_TRUE(loader.load_file(plugin_path("vkdtest_nodes")));
  JsonValue all = registry.object_info_all();
  const JsonValue* add = all.find("TestAdd");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->find("input")->dump(),
            R"({"required": {"a": ["INT", {"forceInput": true}], "b": ["INT", {"default": 0, "min": -1000000, "max": 1000000}]}})");
  EXPECT_EQ(add->find("input_order")->dump(), R"({"required": ["a", "b"]})");
  EXPECT_EQ(add->find("output")->dump(), R"(["INT"])");
  EXPECT_EQ(add->find("output_is_list")->dump(), "[false]");
  EXPECT_EQ(add->find("output_name")->dump(), R"(["sum"])");
  EXPECT_EQ(add->find("name")->as_string(), "TestAdd");
  EXPECT_EQ(add->find("category")->as_string(), "test");
  EXPECT_FALSE(add->find("output_node")->as_bool());
  const JsonValue* out = all.find("TestOutput");
  EXPECT_TRUE(out->find("output_node")->as_bool());
  EXPECT_EQ(out->find("input")->find("optional")->dump(), R"({"label": ["STRING", {"default": "out"}]})");
  const JsonValue* echo = all.find("TestFloatEcho");
  EXPECT_EQ(echo->find("input")->find("required")->find("x")->dump(),
            R"(["FLOAT", {"default": 0.5, "min": -1.0, "max": 1.0, "step": 0.01}])");
  EXPECT_EQ(echo->find("input")->find("required")->find("mode")->dump(), R"([["a", "b", "c"]])");
  EXPECT_EQ(all.find("TestSeed")->find("input")->find("required")->find("seed")->dump(),
            R"(["INT", {"default": 0, "min": 0, "max": 18446744073709551615, "control_after_generate": true}])");
}

TEST(HostServices, LookupByNameAndVersion) {
  Host host;
  const VkdHost* h = host.c_host();
  EXPECT_NE(h->get_service(h, VKD_SERVICE_LOG, 1), nullptr);
  EXPECT_NE(h->get_service(h, VKD_SERVICE_PATHS, 1), nullptr);
  EXPECT_EQ(h->get_service(h, VKD_SERVICE_PATHS, 2), nullptr);  // newer than the host has
  EXPECT_EQ(h->get_service(h, "vkd.device", 1), nullptr);      // the GPU side adds it later
  static const struct { uint32_t struct_size, version; } device{8, 1};
  host.add_service("vkd.device", 1, &device);
  EXPECT_EQ(h->get_service(h, "vkd.device", 1), &device);
  host.set_directory("models", "/m");
  auto* paths = static_cast<const VkdPathsService*>(h->get_service(h, VKD_SERVICE_PATHS, 1));
  EXPECT_STREQ(paths->directory(h, "loras"), "/m/loras");
  EXPECT_EQ(paths->directory(h, "output"), nullptr);
}

}  // namespace
}  // namespace vkdream::graph::test
