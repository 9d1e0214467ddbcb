// The last node-level gaps against ComfyUI's behaviour, through the real node packs: LatentUpscale /
// LatentUpscaleBy "bislerp", SaveImage's filename_prefix variables, subfolders, counter and its refusal of
// folders outside the output folder (folder_paths.get_save_image_path), and the request's
// extra_data.extra_pnginfo written as PNG text chunks after "prompt".
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include "graph_fixture.h"
#include "media/png_text.h"
#include "media/png_writer.h"

namespace vkdream::graph_golden {
namespace {

using graph::JsonValue;

// A fresh work folder with input/in.png (w x h RGB, a pattern) and empty output/ and temp/.
fs::path make_work(const std::string& name, int w = 16, int h = 16) {
  fs::path work = fs::path(VKDREAM_BUILD_DIR) / "graph-out" / ("node-gaps-" + name);
  fs::remove_all(work);
  for (const char* d : {"input", "output", "temp"}) fs::create_directories(work / d);
  std::vector<uint8_t> px(size_t(w * h * 3));
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 37 + (i / 48) * 11) % 256);
  media::write_png_file((work / "input" / "in.png").string(), px.data(), w, h, 3);
  return work;
}

std::unique_ptr<graph::Engine> engine_for(const fs::path& work) {
  return make_engine(work / "input", work / "output", work / "temp");
}

JsonValue node(const std::string& cls, std::vector<JsonValue::Member> inputs) {
  return JsonValue::object({{"class_type", JsonValue::string(cls)}, {"inputs", JsonValue::object(std::move(inputs))}});
}
JsonValue link(const char* id, int slot) { return JsonValue::array({JsonValue::string(id), JsonValue::integer(slot)}); }
JsonValue str(const std::string& s) { return JsonValue::string(s); }

// LoadImage -> SaveImage(prefix).
JsonValue save_prompt(const std::string& prefix) {
  return JsonValue::object({{"1", node("LoadImage", {{"image", str("in.png")}})},
                            {"2", node("SaveImage", {{"images", link("1", 0)}, {"filename_prefix", str(prefix)}})}});
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(NodeGaps, LatentUpscaleBislerpRuns) {
  fs::path work = make_work("bislerp", 32, 16);  // a 4x2 latent
  auto engine = engine_for(work);
  JsonValue prompt = JsonValue::object({
      {"1", node("CheckpointLoaderSimple", {{"ckpt_name", str("tiny-sd15.safetensors")}})},
      {"2", node("LoadImage", {{"image", str("in.png")}})},
      {"3", node("VAEEncode", {{"pixels", link("2", 0)}, {"vae", link("1", 2)}})},
      // 4x2 latent -> 8x8: the center crop keeps columns 1..2 (comfy.utils.common_upscale), then bislerp.
      {"4", node("LatentUpscale", {{"samples", link("3", 0)}, {"upscale_method", str("bislerp")},
                                   {"width", JsonValue::integer(64)}, {"height", JsonValue::integer(64)},
                                   {"crop", str("center")}})},
      {"5", node("VAEDecode", {{"samples", link("4", 0)}, {"vae", link("1", 2)}})},
      {"6", node("SaveImage", {{"images", link("5", 0)}, {"filename_prefix", str("bislerp")}})},
      {"7", node("LatentUpscaleBy", {{"samples", link("3", 0)}, {"upscale_method", str("bislerp")},
                                     {"scale_by", JsonValue::number(1.5)}})},
      {"8", node("VAEDecode", {{"samples", link("7", 0)}, {"vae", link("1", 2)}})},
      {"9", node("SaveImage", {{"images", link("8", 0)}, {"filename_prefix", str("bislerp_by")}})},
  });
  graph::ValidationResult v = engine->validate(prompt);
  ASSERT_TRUE(v.ok) << v.error_response().dump();
  graph::ExecResult r = engine->execute(v, "bislerp");
  ASSERT_TRUE(r.success) << r.error.dump();
  PngPixels a = read_png(work / "output" / "bislerp_00001_.png");
  EXPECT_EQ(a.w, 64);
  EXPECT_EQ(a.h, 64);
  PngPixels b = read_png(work / "output" / "bislerp_by_00001_.png");
  EXPECT_EQ(b.w, 48);  // 4x2 latent * 1.5 = 6x3
  EXPECT_EQ(b.h, 24);
}

TEST(NodeGaps, SaveImagePrefixVariablesAndSubfolders) {
  fs::path work = make_work("vars");
  auto engine = engine_for(work);
  const std::string prefix = "a/b/img_%width%x%height%_%year%-%month%-%day%_%hour%.%minute%.%second%";
  std::time_t before = std::time(nullptr);
  graph::ExecResult r = engine->execute(engine->validate(save_prompt(prefix)), "vars");
  std::time_t after = std::time(nullptr);
  ASSERT_TRUE(r.success) << r.error.dump();
  // The name for one of the seconds the run took (local time, zero-padded as ComfyUI's zfill(2)).
  std::set<std::string> names;
  for (std::time_t t = before; t <= after; ++t) {
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "img_16x16_%Y-%m-%d_%H.%M.%S_00001_.png", &tm);
    names.insert(buf);
  }
  const JsonValue* images = r.ui_outputs.find("2")->find("images");
  ASSERT_TRUE(images && images->size() == 1) << r.ui_outputs.dump();
  const JsonValue& img = images->items()[0];
  EXPECT_EQ(img.find("subfolder")->as_string(), "a/b");
  EXPECT_EQ(img.find("type")->as_string(), "output");
  EXPECT_TRUE(names.count(img.find("filename")->as_string())) << img.dump();
  EXPECT_TRUE(fs::exists(work / "output" / "a" / "b" / img.find("filename")->as_string()));

  // "a/./c/../b//x" normalizes to a/b/x. The counter continues after the highest <name>_<digits>_ there;
  // "x_00009.png" does not count (int("00009.png") fails: digits 0), "x_00007_.png" does.
  std::ofstream(work / "output" / "a" / "b" / "x_00007_.png") << "x";
  std::ofstream(work / "output" / "a" / "b" / "x_00009.png") << "x";
  r = engine->execute(engine->validate(save_prompt("a/./c/../b//x")), "counter");
  ASSERT_TRUE(r.success) << r.error.dump();
  const JsonValue& img2 = r.ui_outputs.find("2")->find("images")->items()[0];
  EXPECT_EQ(img2.find("filename")->as_string(), "x_00008_.png");
  EXPECT_EQ(img2.find("subfolder")->as_string(), "a/b");
  EXPECT_TRUE(fs::exists(work / "output" / "a" / "b" / "x_00008_.png"));
}

TEST(NodeGaps, SaveImageRefusesFoldersOutsideTheOutputFolder) {
  fs::path work = make_work("outside");
  auto engine = engine_for(work);
  const std::string out = fs::weakly_canonical(work / "output").string();
  for (const std::string prefix : {"../escape", "a/../../escape", "/tmp/vkd_abs/x"}) {
    graph::ExecResult r = engine->execute(engine->validate(save_prompt(prefix)), "outside");
    ASSERT_FALSE(r.success) << prefix;
    EXPECT_EQ(r.error.find("exception_type")->as_string(), "Exception") << r.error.dump();
    const std::string msg = r.error.find("exception_message")->as_string();
    EXPECT_EQ(msg.rfind("**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: ", 0),
              0u)
        << msg;
    EXPECT_NE(msg.find("\n         output_dir: " + out + "\n         commonpath: "), std::string::npos) << msg;
  }
  EXPECT_FALSE(fs::exists(work / "escape_00001_.png"));
  EXPECT_FALSE(fs::exists("/tmp/vkd_abs"));
  // Inside after normalization: fine.
  graph::ExecResult ok = engine->execute(engine->validate(save_prompt("a/../inside")), "inside");
  ASSERT_TRUE(ok.success) << ok.error.dump();
  EXPECT_TRUE(fs::exists(work / "output" / "inside_00001_.png"));
}

TEST(NodeGaps, ExtraPngInfoChunksFollowThePrompt) {
  fs::path work = make_work("pnginfo");
  auto engine = engine_for(work);
  JsonValue prompt = save_prompt("info");
  prompt.set("3", node("PreviewImage", {{"images", link("1", 0)}}));
  JsonValue workflow = JsonValue::object({{"nodes", JsonValue::array({JsonValue::integer(1), JsonValue::integer(2)})},
                                          {"name", str("caf\xc3\xa9 \xf0\x9f\x8e\xa8\x7f")}});
  JsonValue extra = JsonValue::object({{"client_id", str("abc")},
                                       {"extra_pnginfo", JsonValue::object({{"workflow", workflow},
                                                                            {"note", JsonValue::integer(5)}})}});
  graph::ExecResult r = engine->execute(engine->validate(prompt), "pnginfo", {}, extra);
  ASSERT_TRUE(r.success) << r.error.dump();
  auto chunks = media::read_png_text_chunks(read_bytes(work / "output" / "info_00001_.png"));
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].first, "prompt");
  EXPECT_EQ(graph::parse_json(chunks[0].second), graph::prompt_from_json(prompt).to_json());
  EXPECT_EQ(chunks[1].first, "workflow");
  // json.dumps: ", " / ": " separators and ensure_ascii escapes (a surrogate pair above U+FFFF, DEL).
  EXPECT_EQ(chunks[1].second, R"({"nodes": [1, 2], "name": "caf\u00e9 \ud83c\udfa8\u007f"})");
  EXPECT_EQ(chunks[2].first, "note");
  EXPECT_EQ(chunks[2].second, "5");
  // PreviewImage writes the same chunks into temp/.
  const JsonValue& prev = r.ui_outputs.find("3")->find("images")->items()[0];
  EXPECT_EQ(prev.find("type")->as_string(), "temp");
  auto prev_chunks = media::read_png_text_chunks(read_bytes(work / "temp" / prev.find("filename")->as_string()));
  ASSERT_EQ(prev_chunks.size(), 3u);
  EXPECT_EQ(prev_chunks[1], chunks[1]);

  // Without extra_pnginfo (or with null): the prompt chunk only.
  auto engine2 = engine_for(work);
  r = engine2->execute(engine2->validate(save_prompt("plain")), "plain", {},
                       JsonValue::object({{"extra_pnginfo", JsonValue::null()}}));
  ASSERT_TRUE(r.success) << r.error.dump();
  chunks = media::read_png_text_chunks(read_bytes(work / "output" / "plain_00001_.png"));
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].first, "prompt");
}

}  // namespace
}  // namespace vkdream::graph_golden
