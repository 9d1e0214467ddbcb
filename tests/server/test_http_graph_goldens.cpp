// The server's share of the graph goldens (tests/fixtures/graphs, ComfyUI's own answers on the tiny checkpoint):
// the txt2img_template, img2img and img2img_template_imageresize cases give ComfyUI's PNG (within 2 levels per
// pixel, mean under 0.5) through port 3000's POST /prompt and through the workflow endpoint their template fills,
// and every variant of their validation.json gets ComfyUI's answer on port 8188 (HTTP status, error type,
// message, node ids, class types, and each node's error types and input names).
#include <algorithm>
#include <cmath>
#include <set>

#include "media/base64.h"
#include "media/image_decode.h"
#include "sd15_server_fixture.h"
#include "test_net_loopback_server.h"

namespace vkdream::server::test {
namespace {

const fs::path kGraphs = fs::path(VKDREAM_SOURCE_DIR) / "tests/fixtures/graphs";

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

JsonValue read_json(const fs::path& p) { return graph::parse_json(read_bytes(p), {64, 1u << 30}); }

struct PixelDiff {
  int max = 0;
  double mean = 0;
};

// Both images as RGB; fails the test when the sizes differ.
PixelDiff compare_png(const std::string& ours, const std::string& theirs) {
  media::DecodedImage a = media::decode_image(ours, 3);
  media::DecodedImage b = media::decode_image(theirs, 3);
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  PixelDiff d;
  if (a.pixels.size() != b.pixels.size()) return {255, 255};
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    int e = std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    d.max = std::max(d.max, e);
    sum += e;
  }
  d.mean = sum / double(a.pixels.size());
  return d;
}

std::string golden_png(const std::string& name) {
  for (const auto& e : fs::directory_iterator(kGraphs / name / "output"))
    if (e.path().extension() == ".png") return read_bytes(e.path());
  ADD_FAILURE() << "no golden PNG for " << name;
  return {};
}

// "ComfyUI_00001_.png" answers come back as base64 in "images"; exactly one per case here.
void expect_golden_image(const HttpResult& r, const std::string& name, const std::string& via) {
  ASSERT_EQ(r.status, 200) << via << ": " << r.body.substr(0, 2000);
  JsonValue j = r.json();
  ASSERT_TRUE(j.find("images") && j.find("images")->size() == 1) << via << ": " << r.body.substr(0, 500);
  auto png = media::base64_decode(j.find("images")->items()[0].as_string(), 1 << 24);
  ASSERT_TRUE(png) << via;
  PixelDiff d = compare_png(*png, golden_png(name));
  std::printf("[golden] %s via %s: max %d levels, mean %.4f\n", name.c_str(), via.c_str(), d.max, d.mean);
  EXPECT_LE(d.max, 2) << name << " via " << via;
  EXPECT_LT(d.mean, 0.5) << name << " via " << via;
}

// The LoadImage node's file as base64, in place of its file name (the serving API decodes it).
JsonValue with_inline_images(JsonValue prompt, const std::string& name) {
  for (auto& [id, node] : prompt.members())
    if (node.find("class_type")->as_string() == "LoadImage") {
      JsonValue* in = node.find("inputs");
      std::string file = in->find("image")->as_string();
      in->set("image", JsonValue::string(media::base64_encode(read_bytes(kGraphs / name / "input" / file))));
    }
  return prompt;
}

// One comparable line per node error: "<node> <class_type> <type> <input_name>".
std::multiset<std::string> node_error_keys(const JsonValue& node_errors) {
  std::multiset<std::string> keys;
  for (const auto& [id, node] : node_errors.members()) {
    const JsonValue* ct = node.find("class_type");
    std::string prefix = id + " " + (ct && ct->is_string() ? ct->as_string() : "?");
    const JsonValue* deps = node.find("dependent_outputs");
    std::vector<std::string> d;
    if (deps)
      for (const auto& x : deps->items()) d.push_back(x.py_str());
    std::sort(d.begin(), d.end());
    std::string dep_list;
    for (const auto& x : d) dep_list += x + ",";
    keys.insert(prefix + " dependent_outputs " + dep_list);
    if (const JsonValue* errs = node.find("errors"))
      for (const auto& e : errs->items()) {
        const JsonValue* extra = e.find("extra_info");
        const JsonValue* input = extra && extra->is_object() ? extra->find("input_name") : nullptr;
        keys.insert(prefix + " " + e.find("type")->as_string() + " " +
                    (input && input->is_string() ? input->as_string() : "-"));
      }
  }
  return keys;
}

class ServerGraphGoldens : public SD15ServerTest {
 public:
  // ComfyUI ran these with the checkpoint under this name (it appears in the prompts and in value_not_in_list).
  ServerGraphGoldens() { checkpoint_name = "tiny-sd15.safetensors"; }
  void copy_inputs(const std::string& name) {
    if (!fs::exists(kGraphs / name / "input")) return;
    for (const auto& e : fs::directory_iterator(kGraphs / name / "input"))
      fs::copy_file(e.path(), root / "input" / e.path().filename(), fs::copy_options::overwrite_existing);
  }
};

const char* const kServerCases[] = {"txt2img_template", "img2img", "img2img_template_imageresize"};

TEST_F(ServerGraphGoldens, PromptRouteGivesComfyUIsImages) {
  start_real();
  for (const char* name : kServerCases) {
    JsonValue prompt = with_inline_images(*read_json(kGraphs / name / "prompt.json").find("prompt"), name);
    auto r = http("POST", url("/prompt"), JsonValue::object({{"prompt", prompt}}).dump(), {}, 600000);
    expect_golden_image(r, name, "POST :3000/prompt");
  }
  EXPECT_TRUE(fs::is_empty(root / "output"));
}

TEST_F(ServerGraphGoldens, WorkflowEndpointsGiveComfyUIsImages) {
  start_real();
  // The workflow inputs that fill each template into the golden prompt (test_workflows.cpp checks the filling
  // itself node by node).
  auto r = http("POST", url("/workflow/sd1.5/txt2img"), R"({"input": {
      "prompt": "a photo of a red fox in the snow", "negative_prompt": "", "width": 64, "height": 64, "seed": 42,
      "steps": 8, "cfg_scale": 8, "sampler_name": "euler", "scheduler": "normal", "denoise": 1,
      "checkpoint": "tiny-sd15.safetensors"}})", {}, 600000);
  expect_golden_image(r, "txt2img_template", "/workflow/sd1.5/txt2img");

  const std::string photo =
      media::base64_encode(read_bytes(kGraphs / "img2img_template_imageresize/input/photo.png"));
  r = http("POST", url("/workflow/sd1.5/img2img"), R"({"input": {
      "prompt": "a cozy cabin in the woods", "negative_prompt": "text, watermark", "image": ")" + photo + R"(",
      "width": 64, "height": 64, "interpolation": "nearest", "seed": 81, "steps": 8, "cfg_scale": 8,
      "sampler_name": "euler", "scheduler": "normal", "denoise": 0.8, "checkpoint": "tiny-sd15.safetensors"}})",
           {}, 600000);
  expect_golden_image(r, "img2img_template_imageresize", "/workflow/sd1.5/img2img");
}

// The img2img template with its image as an http URL on a loopback server: refused under the default egress
// rules (loopback is a private address), fetched once EGRESS_ALLOW names it, and then ComfyUI's image.
TEST_F(ServerGraphGoldens, Img2ImgFromALoopbackUrl) {
  const std::string photo = read_bytes(kGraphs / "img2img_template_imageresize/input/photo.png");
  vkdream::test::LoopbackHttpServer images([&](const vkdream::test::ReceivedRequest&) {
    return vkdream::test::LoopbackHttpServer::response(200, photo, "", "image/png");
  });
  const std::string body = R"({"input": {
      "prompt": "a cozy cabin in the woods", "negative_prompt": "text, watermark", "image": ")" +
                           images.url("/photo.png") + R"(", "width": 64, "height": 64, "interpolation": "nearest",
      "seed": 81, "steps": 8, "denoise": 0.8, "checkpoint": "tiny-sd15.safetensors"}})";
  unsetenv("EGRESS_ALLOW");
  start_real();
  auto r = http("POST", url("/workflow/sd1.5/img2img"), body, {}, 600000);
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 1000);
  EXPECT_EQ(r.json().find("location")->as_string(), "prompt.10.inputs.image") << r.body.substr(0, 1000);
  EXPECT_TRUE(images.requests().empty());  // refused before connecting
  server.reset();

  setenv("EGRESS_ALLOW", "127.0.0.1/32", 1);
  start_real();
  unsetenv("EGRESS_ALLOW");
  r = http("POST", url("/workflow/sd1.5/img2img"), body, {}, 600000);
  expect_golden_image(r, "img2img_template_imageresize", "/workflow/sd1.5/img2img with an image URL");
  EXPECT_EQ(images.requests().size(), 1u);
}

TEST_F(ServerGraphGoldens, ValidationVariantsGetComfyUIsAnswersOnPort8188) {
  start_real();
  int compared = 0;
  for (const char* name : kServerCases) {
    copy_inputs(name);
    const JsonValue doc = read_json(kGraphs / name / "validation.json");
    for (const auto& v : doc.find("variants")->items()) {
      const std::string what = std::string(name) + "/" + v.find("name")->as_string();
      auto r = http("POST", comfy("/prompt"), v.find("request")->dump());
      ASSERT_GT(r.status, 0) << what;
      EXPECT_EQ(r.status, v.find("http_status")->as_int()) << what << ": " << r.body.substr(0, 1000);
      const JsonValue ours = r.json();
      const JsonValue& theirs = *v.find("response");
      if (const JsonValue* te = theirs.find("error")) {
        const JsonValue* oe = ours.find("error");
        ASSERT_TRUE(oe && oe->is_object()) << what << ": " << r.body.substr(0, 1000);
        EXPECT_EQ(oe->find("type")->as_string(), te->find("type")->as_string()) << what;
        EXPECT_EQ(oe->find("message")->as_string(), te->find("message")->as_string()) << what;
      } else {
        EXPECT_TRUE(ours.find("prompt_id") && ours.find("number")) << what << ": " << r.body.substr(0, 1000);
      }
      const JsonValue* on = ours.find("node_errors");
      ASSERT_TRUE(on) << what;
      EXPECT_EQ(node_error_keys(*on), node_error_keys(*theirs.find("node_errors"))) << what << ": " << r.body;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 32 + 13 + 16);
  // Valid variants were queued: only the answers matter here, so drop them (ComfyUI's queue clear + interrupt).
  EXPECT_EQ(http("POST", comfy("/queue"), R"({"clear": true})").status, 200);
  EXPECT_EQ(http("POST", comfy("/interrupt"), "{}").status, 200);
  EXPECT_TRUE(wait_for([&] { return http("GET", comfy("/queue")).json().find("queue_running")->size() == 0 &&
                                    http("GET", comfy("/queue")).json().find("queue_pending")->size() == 0; },
                       600000));
}

}  // namespace
}  // namespace vkdream::server::test
