// End to end with the real graph runtime: the in-tree SD1.5 node packs and the tiny checkpoint behind
// /workflow/sd1.5/txt2img, /workflow/sd1.5/img2img and ComfyUI's /prompt.
#include "media/base64.h"
#include "media/image_decode.h"
#include "sd15_server_fixture.h"

namespace vkdream::server::test {

TEST_F(SD15ServerTest, Txt2ImgWorkflowReturnsAPng) {
  start_real();
  auto r = http("POST", url("/workflow/sd1.5/txt2img"),
                R"({"id": "e2e", "input": {"prompt": "a cat", "width": 64, "height": 64, "steps": 2, "seed": 1,
                    "checkpoint": "tiny.safetensors"}})",
                {}, 600000);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 2000);
  JsonValue j = r.json();
  EXPECT_EQ(j.find("input")->find("seed")->as_int(), 1);
  EXPECT_EQ(j.find("input")->find("sampler_name")->as_string(), "euler");  // a default filled in
  ASSERT_EQ(j.find("images")->size(), 1u);
  EXPECT_EQ(j.find("filenames")->items()[0].as_string().rfind("e2e_", 0), 0u);
  auto png = media::base64_decode(j.find("images")->items()[0].as_string(), 1 << 24);
  ASSERT_TRUE(png);
  media::ImageInfo info = media::probe_image(*png);
  EXPECT_EQ(info.type, media::ImageType::PNG);
  EXPECT_EQ(info.width, 64);
  EXPECT_EQ(info.height, 64);
  EXPECT_TRUE(fs::is_empty(root / "output"));

  // img2img on that image (bare base64), resized to 64x72 (keep proportion: 64x64 -> 64x64 inside 64x72... the
  // node decides), then ComfyUI's API runs the same txt2img graph and /view serves its SaveImage file.
  std::string b64 = j.find("images")->items()[0].as_string();
  r = http("POST", url("/workflow/sd1.5/img2img"),
           R"({"input": {"prompt": "a dog", "image": ")" + b64 + R"(", "width": 64, "height": 64, "steps": 2,
                "checkpoint": "tiny.safetensors"}})", {}, 600000);
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 2000);
  EXPECT_EQ(r.json().find("images")->size(), 1u);
  EXPECT_TRUE(fs::is_empty(root / "input"));  // the decoded input image is gone too

  // A new filename_prefix, as a ComfyUI client would send: an identical prompt would be served from the cache
  // (SaveImage included) and write no file.
  JsonValue prompt = j.find("prompt")->is_object() ? *j.find("prompt") : JsonValue::object();
  for (auto& [id, node] : prompt.members())
    if (JsonValue* in = node.find("inputs"); in && in->find("filename_prefix")) in->set("filename_prefix", JsonValue::string("c1"));
  r = http("POST", comfy("/prompt"), JsonValue::object({{"prompt", prompt}, {"prompt_id", JsonValue::string("c1")}}).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  JsonValue h;
  ASSERT_TRUE(wait_for([&] {
    h = http("GET", comfy("/history/c1")).json();
    return h.find("c1") != nullptr;
  }, 600000));
  const JsonValue* entry = h.find("c1");
  ASSERT_EQ(entry->find("status")->find("status_str")->as_string(), "success") << h.dump().substr(0, 2000);
  const JsonValue* images = nullptr;
  for (const auto& [node, out] : entry->find("outputs")->members())
    if (out.find("images")) images = out.find("images");
  ASSERT_TRUE(images && images->size() == 1);
  const JsonValue& img = images->items()[0];
  auto v = http("GET", comfy("/view?filename=" + img.find("filename")->as_string() + "&type=output&subfolder=" +
                             img.find("subfolder")->as_string()));
  EXPECT_EQ(v.status, 200) << img.dump();
  EXPECT_EQ(v.headers["content-type"], "image/png");
}

}  // namespace vkdream::server::test
