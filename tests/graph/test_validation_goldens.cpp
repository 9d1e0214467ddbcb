// Data-driven: every variant of tests/fixtures/graphs/*/validation.json (ComfyUI's own answers) validated
// against the node schemas of the built node packs (the .so files in <build>/plugins, loaded by a graph::Engine
// as the server does), so what ships is what is checked. Compared: HTTP status, the top-level error
// (type, message, details), and per node: class_type, dependent_outputs and each error's type, message,
// details, input name and extra_info (minus the Python traceback). Error order inside one node is not
// compared: ComfyUI iterates a Python set there, so its order varies from run to run.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "graph/engine.h"
#include "graph/graph_test_util.h"

namespace vkdream::graph::test {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A comparable key per error: everything but the traceback.
std::string error_key(const JsonValue& e) {
  JsonValue copy = e;
  if (JsonValue* extra = copy.find("extra_info"))
    if (extra->is_object()) {
      JsonValue kept = JsonValue::object();
      for (const auto& [k, v] : extra->members())
        if (k != "traceback") kept.set(k, v);
      *extra = kept;
    }
  return copy.dump();
}

struct Mismatch {
  std::string where;
  std::string what;
};

// Compares our node_errors with ComfyUI's. `strict` includes messages, details and extra_info.
void compare_node_errors(const JsonValue& ours, const JsonValue& theirs, bool strict, std::vector<Mismatch>& out) {
  for (const auto& [id, t] : theirs.members()) {
    const JsonValue* o = ours.find(id);
    if (!o) {
      out.push_back({"node " + id, "missing in our answer"});
      continue;
    }
    if (!(*o->find("class_type") == *t.find("class_type"))) out.push_back({"node " + id, "class_type"});
    auto set_of = [](const JsonValue& arr) {
      std::vector<std::string> v;
      for (const auto& x : arr.items()) v.push_back(x.py_str());
      std::sort(v.begin(), v.end());
      return v;
    };
    if (set_of(*o->find("dependent_outputs")) != set_of(*t.find("dependent_outputs")))
      out.push_back({"node " + id, "dependent_outputs " + o->find("dependent_outputs")->dump()});
    std::vector<std::string> a, b;
    for (const auto& e : o->find("errors")->items()) {
      const JsonValue* in = e.find("extra_info")->find("input_name");
      a.push_back(strict ? error_key(e)
                         : e.find("type")->as_string() + "|" + (in ? in->py_str() : std::string("-")));
    }
    for (const auto& e : t.find("errors")->items()) {
      const JsonValue* in = e.find("extra_info")->find("input_name");
      b.push_back(strict ? error_key(e)
                         : e.find("type")->as_string() + "|" + (in ? in->py_str() : std::string("-")));
    }
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b) {
      std::string d;
      for (size_t k = 0; k < std::max(a.size(), b.size()); ++k)
        if (k >= a.size() || k >= b.size() || a[k] != b[k])
          d += "\n  ours:   " + (k < a.size() ? a[k] : "-") + "\n  comfy:  " + (k < b.size() ? b[k] : "-");
      out.push_back({"node " + id, "errors differ" + d});
    }
  }
  for (const auto& [id, o] : ours.members())
    if (!theirs.find(id)) out.push_back({"node " + id, "extra in our answer: " + o.dump()});
}

std::vector<Mismatch> compare_variant(const ValidationResult& r, const JsonValue& v, bool strict) {
  std::vector<Mismatch> m;
  int status = static_cast<int>(v.find("http_status")->as_int());
  if (r.http_status() != status) m.push_back({"http_status", std::to_string(r.http_status())});
  const JsonValue& resp = *v.find("response");
  if (status == 400) {
    const JsonValue& te = *resp.find("error");
    for (const char* k : {"type", "message", "details"}) {
      if (!strict && std::string(k) != "type") continue;
      if (r.error.is_null() || !(*r.error.find(k) == *te.find(k)))
        m.push_back({std::string("error.") + k, r.error.is_null() ? "none" : r.error.find(k)->dump()});
    }
  } else {
    std::vector<std::string> good = r.good_outputs, want;
    for (const auto& x : v.find("outputs_to_execute")->items()) want.push_back(x.as_string());
    if (sorted(good) != sorted(want)) m.push_back({"outputs_to_execute", "differs"});
  }
  compare_node_errors(r.node_errors, *resp.find("node_errors"), strict, m);
  return m;
}

struct GoldenEnv {
  fs::path root;
  std::unique_ptr<Engine> engine;
  const NodeRegistry& registry;
  GoldenEnv() : root(make_models()), engine(make_engine(root)), registry(engine->registry()) {
    for (const auto& err : engine->plugin_errors()) ADD_FAILURE() << "plugin: " << err;
    EXPECT_TRUE(registry.find("KSampler")) << "no node packs in " << VKDREAM_PLUGIN_DIR;
  }
  // A models folder holding empty files with the fixtures' model names (the combos list them).
  static fs::path make_models() {
    fs::path root = fs::temp_directory_path() / ("vkdtest_golden_" + std::to_string(::getpid()));
    fs::create_directories(root / "models" / "checkpoints");
    fs::create_directories(root / "models" / "loras");
    for (const char* f : {"tiny-sd15.safetensors", "tiny-sd15-fp16.safetensors"})
      std::ofstream(root / "models" / "checkpoints" / f) << "x";
    std::ofstream(root / "models" / "loras" / "tiny-lora.safetensors") << "x";
    return root;
  }
  static std::unique_ptr<Engine> make_engine(const fs::path& root) {
    EngineOptions o;
    o.plugin_paths = {VKDREAM_PLUGIN_DIR};
    o.directories["models"] = (root / "models").string();
    return std::make_unique<Engine>(std::move(o));
  }
  ~GoldenEnv() { fs::remove_all(root); }

  // The case's input folder holds the images its base prompt loads.
  void set_case_inputs(const std::string& name, const JsonValue& base_prompt) {
    fs::path in = root / "input" / name;
    fs::create_directories(in);
    for (const auto& [id, node] : base_prompt.members())
      if (node.find("class_type") && node.find("class_type")->py_str() == "LoadImage")
        if (const JsonValue* img = node.find("inputs")->find("image")) std::ofstream(in / img->as_string()) << "x";
    engine->host().set_directory("input", in.string());
  }
};

TEST(ValidationGoldens, EveryVariantMatchesComfyUI) {
  fs::path dir = fs::path(VKDREAM_FIXTURES_DIR) / "graphs";
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(dir))
    if (fs::exists(e.path() / "validation.json")) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  ASSERT_GE(cases.size(), 20u);

  GoldenEnv env;
  int total = 0, matched = 0, strict_matched = 0;
  std::vector<std::string> failures, strict_failures;
  for (const auto& c : cases) {
    JsonValue base = parse_json(read_file(c / "prompt.json"));
    env.set_case_inputs(c.filename().string(), *base.find("prompt"));
    JsonValue doc = parse_json(read_file(c / "validation.json"));
    for (const auto& v : doc.find("variants")->items()) {
      ++total;
      std::string name = c.filename().string() + "/" + v.find("name")->as_string();
      ValidationResult r;
      try {
        r = validate_prompt(prompt_from_json(*v.find("request")->find("prompt")), env.registry);
      } catch (const std::exception& e) {
        failures.push_back(name + ": threw " + e.what());
        continue;
      }
      auto loose = compare_variant(r, v, false);
      auto strict = compare_variant(r, v, true);
      if (loose.empty()) ++matched;
      else failures.push_back(name + ": " + loose[0].where + " " + loose[0].what);
      if (strict.empty()) ++strict_matched;
      else strict_failures.push_back(name + ": " + strict[0].where + " " + strict[0].what);
    }
  }
  std::printf("[ goldens  ] %d/%d variants match (type, node, input, top-level error); %d/%d match in full "
              "(messages, details, extra_info)\n", matched, total, strict_matched, total);
  for (const auto& f : failures) ADD_FAILURE() << f;
  for (const auto& f : strict_failures) ADD_FAILURE() << "strict: " << f;
  EXPECT_EQ(total, 367);
}

TEST(ValidationGoldens, ObjectInfoOfKSampler) {
  GoldenEnv env;
  JsonValue info = env.registry.object_info(*env.registry.find("KSampler"));
  EXPECT_EQ(info.find("input_order")->find("required")->dump(),
            R"(["model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive", "negative", "latent_image", "denoise"])");
  EXPECT_EQ(info.find("input")->find("required")->find("sampler_name")->items()[0].size(), 44u);
  EXPECT_EQ(info.find("output")->dump(), R"(["LATENT"])");
  JsonValue ckpt = env.registry.object_info(*env.registry.find("CheckpointLoaderSimple"));
  EXPECT_EQ(ckpt.find("input")->find("required")->find("ckpt_name")->items()[0].dump(),
            R"(["tiny-sd15-fp16.safetensors", "tiny-sd15.safetensors"])");
  EXPECT_EQ(ckpt.find("output_name")->dump(), R"(["MODEL", "CLIP", "VAE"])");
  JsonValue save = env.registry.object_info(*env.registry.find("SaveImage"));
  EXPECT_EQ(save.find("input")->find("hidden")->dump(), R"({"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"})");
  EXPECT_TRUE(save.find("output_node")->as_bool());
}

}  // namespace
}  // namespace vkdream::graph::test
