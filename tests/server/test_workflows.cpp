// vkdream_workflows: the shipped templates produce exactly the golden prompts, input validation gives clear
// 400 errors, defaults (random seed, run-time checkpoint) are filled, OpenAPI fragments are generated.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "workflows/workflow_template.h"

using namespace vkdream::workflows;
using vkdream::graph::JsonValue;
using vkdream::graph::parse_json;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

DynamicValues server_values() {
  DynamicValues d;
  d.enum_values = [](std::string_view source) -> std::vector<std::string> {
    if (source == "samplers") return {"euler", "euler_ancestral", "dpmpp_2m"};
    if (source == "schedulers") return {"normal", "karras"};
    if (source == "checkpoints") return {"dreamshaper_8.safetensors", "tiny-sd15.safetensors"};
    return {};
  };
  d.default_value = [](std::string_view source) -> std::optional<JsonValue> {
    if (source == "checkpoints") return JsonValue::string("dreamshaper_8.safetensors");
    return std::nullopt;
  };
  d.random_u64 = [] { return uint64_t(1234567890123); };
  return d;
}

const LoadedWorkflows& shipped() {
  static const LoadedWorkflows w = load_workflow_dir(VKDREAM_WORKFLOWS_DIR);
  return w;
}

const WorkflowTemplate& tmpl(const char* endpoint) {
  const WorkflowTemplate* t = find_workflow(shipped(), endpoint);
  if (!t) throw std::runtime_error(std::string("no template ") + endpoint);
  return *t;
}

std::string input_error(const WorkflowTemplate& t, const char* input_json, std::string* location = nullptr) {
  try {
    fill_workflow(t, parse_json(input_json), server_values());
  } catch (const InputError& e) {
    if (location) *location = e.location();
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST(Workflows, ShippedTemplatesLoad) {
  EXPECT_TRUE(shipped().errors.empty()) << shipped().errors.front();
  ASSERT_EQ(shipped().templates.size(), 2u);
  EXPECT_EQ(shipped().templates[0].endpoint, "/workflow/sd1.5/img2img");
  EXPECT_EQ(shipped().templates[1].endpoint, "/workflow/sd1.5/txt2img");
  EXPECT_EQ(shipped().templates[1].name, "sd1.5/txt2img");
  EXPECT_EQ(find_workflow(shipped(), "/workflow/sd1.5/nope"), nullptr);
}

TEST(Workflows, Txt2ImgProducesTheGoldenPrompt) {
  const JsonValue golden = parse_json(read_text(VKDREAM_FIXTURES_DIR "/graphs/txt2img_template/prompt.json"));
  const FilledWorkflow f = fill_workflow(tmpl("/workflow/sd1.5/txt2img"), parse_json(R"({
      "prompt": "a photo of a red fox in the snow", "width": 64, "height": 64, "seed": 42, "steps": 8,
      "checkpoint": "tiny-sd15.safetensors"})"), server_values());
  EXPECT_TRUE(f.prompt == *golden.find("prompt")) << f.prompt.dump();
  EXPECT_EQ(f.prompt.dump(), golden.find("prompt")->dump());  // same key order and number types too
  // The echoed input has every default filled, in schema order.
  EXPECT_EQ(f.input.dump(), parse_json(R"({"prompt": "a photo of a red fox in the snow", "negative_prompt": "",
      "width": 64, "height": 64, "seed": 42, "steps": 8, "cfg_scale": 8, "sampler_name": "euler",
      "scheduler": "normal", "denoise": 1, "checkpoint": "tiny-sd15.safetensors"})").dump());
}

TEST(Workflows, Img2ImgProducesTheGoldenPrompt) {
  const JsonValue golden = parse_json(read_text(VKDREAM_FIXTURES_DIR "/graphs/img2img_template_imageresize/prompt.json"));
  const FilledWorkflow f = fill_workflow(tmpl("/workflow/sd1.5/img2img"), parse_json(R"({
      "prompt": "a cozy cabin in the woods", "image": "photo.png", "width": 64, "height": 64, "seed": 81,
      "steps": 8, "checkpoint": "tiny-sd15.safetensors"})"), server_values());
  EXPECT_TRUE(f.prompt == *golden.find("prompt")) << f.prompt.dump();
  EXPECT_EQ(f.prompt.dump(), golden.find("prompt")->dump());
  EXPECT_EQ(f.input.find("negative_prompt")->as_string(), "text, watermark");
  EXPECT_EQ(f.input.find("denoise")->as_float(), 0.8);
  EXPECT_EQ(f.input.find("interpolation")->as_string(), "nearest");
}

TEST(Workflows, DefaultsComeFromTheSchemaAndTheServer) {
  const FilledWorkflow f = fill_workflow(tmpl("/workflow/sd1.5/txt2img"), parse_json(R"({"prompt": "x"})"), server_values());
  EXPECT_EQ(f.input.find("width")->as_int(), 512);
  EXPECT_EQ(f.input.find("steps")->as_int(), 20);
  EXPECT_EQ(f.input.find("checkpoint")->as_string(), "dreamshaper_8.safetensors");
  // default_from "random": uniform in [0, 2^53] from the server's source.
  EXPECT_EQ(f.input.find("seed")->as_int(), 1234567890123 % ((int64_t(1) << 53) + 1));
  EXPECT_EQ(f.prompt.find("3")->find("inputs")->find("seed")->as_int(), f.input.find("seed")->as_int());
  // Without a pinned source the seed varies and stays in range.
  DynamicValues d = server_values();
  d.random_u64 = nullptr;
  const auto a = fill_workflow(tmpl("/workflow/sd1.5/txt2img"), parse_json(R"({"prompt": "x"})"), d).input.find("seed")->as_int();
  const auto b = fill_workflow(tmpl("/workflow/sd1.5/txt2img"), parse_json(R"({"prompt": "x"})"), d).input.find("seed")->as_int();
  EXPECT_NE(a, b);
  EXPECT_GE(a, 0);
  EXPECT_LE(a, int64_t(1) << 53);
  // No checkpoint on the server: a clear error rather than an empty name.
  d.default_value = nullptr;
  try {
    fill_workflow(tmpl("/workflow/sd1.5/txt2img"), parse_json(R"({"prompt": "x"})"), d);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.location(), "input.checkpoint");
  }
  // null means "use the default".
  EXPECT_EQ(fill_workflow(tmpl("/workflow/sd1.5/txt2img"), parse_json(R"({"prompt": "x", "steps": null})"),
                          server_values()).input.find("steps")->as_int(), 20);
}

TEST(Workflows, InputErrorsAreClearAndLocated) {
  const WorkflowTemplate& t = tmpl("/workflow/sd1.5/txt2img");
  std::string loc;
  EXPECT_EQ(input_error(t, R"({})", &loc), "input.prompt is required");
  EXPECT_EQ(loc, "input.prompt");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "steps": 150})", &loc), "input.steps must be at most 100 (got 150)");
  EXPECT_EQ(loc, "input.steps");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "steps": 0})"), "input.steps must be at least 1 (got 0)");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "steps": 8.5})"), "input.steps must be an integer (got 8.5)");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "steps": "8"})"), "input.steps must be an integer (got \"8\")");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "steps": true})"), "input.steps must be an integer (got true)");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "width": 65})"), "input.width must be a multiple of 8 (got 65)");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "width": 4096})"), "input.width must be at most 2048 (got 4096)");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "cfg_scale": 20.5})"), "input.cfg_scale must be at most 20 (got 20.5)");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "denoise": -0.1})"), "input.denoise must be at least 0 (got -0.1)");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "seed": -1})"), "input.seed must be at least 0 (got -1)");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "seed": 9007199254740993})"),
            "input.seed must be at most 9007199254740992 (got 9007199254740993)");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "sampler_name": "nope"})", &loc),
            "input.sampler_name must be one of [\"euler\", \"euler_ancestral\", \"dpmpp_2m\"] (got \"nope\")");
  EXPECT_EQ(loc, "input.sampler_name");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "checkpoint": "../../etc/passwd"})", &loc).substr(0, 33),
            "input.checkpoint must be one of [");
  EXPECT_EQ(input_error(t, R"({"prompt": 5})"), "input.prompt must be a string (got 5)");
  EXPECT_EQ(input_error(t, R"({"prompt": "x", "cfg": 7})", &loc).substr(0, 54),
            "input.cfg is not an input of /workflow/sd1.5/txt2img (");
  EXPECT_EQ(loc, "input.cfg");
  EXPECT_EQ(input_error(t, R"([1, 2])", &loc), "input must be an object");
  EXPECT_EQ(loc, "input");
  const std::string long_prompt = "{\"prompt\": \"" + std::string(65537, 'a') + "\"}";
  EXPECT_EQ(input_error(t, long_prompt.c_str()), "input.prompt is longer than 65536 bytes");
  // Accepted edge values: integral floats become ints, bounds are inclusive.
  const FilledWorkflow f = fill_workflow(t, parse_json(R"({"prompt": "x", "steps": 8.0, "seed": 9007199254740992,
      "cfg_scale": 0, "width": 2048, "sampler_name": "dpmpp_2m"})"), server_values());
  EXPECT_TRUE(f.input.find("steps")->is_int());
  EXPECT_EQ(f.prompt.find("3")->find("inputs")->find("sampler_name")->as_string(), "dpmpp_2m");
  const WorkflowTemplate& i2i = tmpl("/workflow/sd1.5/img2img");
  EXPECT_EQ(input_error(i2i, R"({"prompt": "x"})"), "input.image is required");
  EXPECT_EQ(input_error(i2i, R"({"prompt": "x", "image": "a.png", "interpolation": "lanczos"})"),
            "input.interpolation must be one of [\"nearest\"] (got \"lanczos\")");
}

TEST(Workflows, BadTemplatesAreRefusedWithTheReason) {
  auto why = [](const char* json) {
    try {
      parse_workflow_template(json, "t");
    } catch (const TemplateError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  const char* node = R"("prompt": {"1": {"class_type": "X", "inputs": {"a": "{{a}}"}}})";
  EXPECT_EQ(why((std::string(R"({"input": {"a": {"type": "string", "required": true}}, )") + node + "}").c_str()),
            "(accepted)");
  EXPECT_EQ(why((std::string(R"({"input": {"a": {"type": "text", "required": true}}, )") + node + "}").c_str()),
            "input.a.type must be string, integer, number or boolean (got 'text')");
  EXPECT_EQ(why((std::string(R"({"input": {"a": {"type": "string"}}, )") + node + "}").c_str()),
            "input.a is optional but has no default or default_from");
  EXPECT_EQ(why((std::string(R"({"input": {"a": {"type": "integer", "default": 5, "maximum": 3}}, )") + node + "}").c_str()),
            "default of input.a must be at most 3 (got 5)");
  EXPECT_EQ(why((std::string(R"({"input": {"a": {"type": "string", "required": true, "minumum": 1}}, )") + node + "}").c_str()),
            "input.a: unknown key 'minumum'");
  EXPECT_EQ(why(R"({"input": {"a": {"type": "string", "required": true}}, "prompt": {"1": {"class_type": "X", "inputs": {"a": "{{b}}"}}}})"),
            "placeholder {{b}} has no input of that name");
  EXPECT_EQ(why(R"({"input": {"a": {"type": "string", "required": true}}, "prompt": {"1": {"class_type": "X", "inputs": {}}}})"),
            "input.a is not used in the prompt (no {{a}})");
  EXPECT_EQ(why(R"({"input": {}, "prompt": {}})"), "\"prompt\" (the API-format prompt) must be a non-empty object");
  EXPECT_EQ(why("{nope"), why("{nope"));
  EXPECT_EQ(why("{nope").substr(0, 13), "invalid JSON:");
}

TEST(Workflows, LoadsADirectoryTreeAndReportsBadFiles) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / "vkdream_workflows_test";
  fs::remove_all(dir);
  fs::create_directories(dir / "a" / "b");
  fs::copy_file(fs::path(VKDREAM_WORKFLOWS_DIR) / "sd1.5" / "txt2img.json", dir / "a" / "b" / "mine.json");
  std::ofstream(dir / "broken.json") << "{\"input\": 3}";
  std::ofstream(dir / "notes.txt") << "ignored";
  const LoadedWorkflows w = load_workflow_dir(dir);
  ASSERT_EQ(w.templates.size(), 1u);
  EXPECT_EQ(w.templates[0].endpoint, "/workflow/a/b/mine");
  ASSERT_EQ(w.errors.size(), 1u);
  EXPECT_NE(w.errors[0].find("broken.json"), std::string::npos);
  fs::remove_all(dir);
  EXPECT_EQ(load_workflow_dir(dir).errors.size(), 1u);
}

TEST(Workflows, OpenApiFragments) {
  const WorkflowTemplate& t = tmpl("/workflow/sd1.5/txt2img");
  const JsonValue schema = input_json_schema(t, server_values());
  EXPECT_EQ(schema.find("type")->as_string(), "object");
  EXPECT_EQ(schema.find("required")->dump(), R"(["prompt"])");
  EXPECT_FALSE(schema.find("additionalProperties")->as_bool());
  const JsonValue* props = schema.find("properties");
  EXPECT_EQ(props->find("width")->dump(),
            R"({"type": "integer", "description": "Width of the generated image", "default": 512, "minimum": 64, "maximum": 2048, "multipleOf": 8})");
  EXPECT_EQ(props->find("sampler_name")->find("enum")->dump(), R"(["euler", "euler_ancestral", "dpmpp_2m"])");
  EXPECT_EQ(props->find("checkpoint")->find("default")->as_string(), "dreamshaper_8.safetensors");
  EXPECT_EQ(props->find("seed")->find("default"), nullptr);  // random: no fixed default
  EXPECT_EQ(props->find("cfg_scale")->find("type")->as_string(), "number");

  JsonValue extra = JsonValue::object();
  extra.set("id", parse_json(R"({"type": "string"})"));
  const JsonValue item = openapi_path_item(t, server_values(), extra);
  const JsonValue* post = item.find("post");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->find("operationId")->as_string(), "workflow_sd1_5_txt2img");
  EXPECT_EQ(post->find("summary")->as_string(), "Text-to-Image");
  const JsonValue* body = post->find("requestBody")->find("content")->find("application/json")->find("schema");
  EXPECT_TRUE(*body->find("properties")->find("input") == schema);
  EXPECT_TRUE(body->find("properties")->find("id"));
  EXPECT_EQ(body->find("required")->dump(), R"(["input"])");
  EXPECT_TRUE(post->find("responses")->find("200"));
}
