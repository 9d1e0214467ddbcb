// ComfyUI's API (port 8188): queueing and history polling, validation errors in ComfyUI's JSON, /view and
// /upload/image through the canonical path check, object_info, queue, interrupt, system stats, models.
#include "media/png_writer.h"
#include "test_http_support.h"

namespace vkdream::server::test {

namespace {

JsonValue wait_history(ServerTest* t, const std::string& base, const std::string& id) {
  JsonValue out;
  ServerTest::wait_for([&] {
    auto r = http("GET", base + "/history/" + id);
    out = r.json();
    return out.find(id) != nullptr;
  });
  return out;
}

std::string multipart(const std::string& boundary, const std::string& filename, const std::string& data,
                      const std::string& extra_field = "") {
  std::string b = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + filename +
                  "\"\r\nContent-Type: image/png\r\n\r\n" + data + "\r\n";
  if (!extra_field.empty()) b += "--" + boundary + "\r\n" + extra_field + "\r\n";
  return b + "--" + boundary + "--\r\n";
}

std::string tiny_png() {
  std::vector<uint8_t> px(4 * 4 * 3, 128);
  auto png = media::encode_png(px.data(), 4, 4, 3);
  return std::string(png.begin(), png.end());
}

}  // namespace

TEST_F(ServerTest, ComfyPromptQueuesAndHistoryHasOutputs) {
  start();
  auto r = http("POST", comfy("/prompt"), R"({"prompt": )" + save_prompt(3) + R"(, "client_id": "c1", "prompt_id": "p-1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonValue j = r.json();
  EXPECT_EQ(j.find("prompt_id")->as_string(), "p-1");
  EXPECT_TRUE(j.find("number")->is_int());
  EXPECT_EQ(j.find("node_errors")->size(), 0u);
  JsonValue h = wait_history(this, comfy(""), "p-1");
  const JsonValue* e = h.find("p-1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->find("status")->find("status_str")->as_string(), "success");
  EXPECT_TRUE(e->find("status")->find("completed")->as_bool());
  const JsonValue& img = e->find("outputs")->find("1")->find("images")->items()[0];
  EXPECT_EQ(img.find("filename")->as_string(), "img_00001_.png");
  EXPECT_EQ(e->find("prompt")->items()[1].as_string(), "p-1");
  EXPECT_EQ(e->find("prompt")->items()[3].find("client_id")->as_string(), "c1");
  // /view serves the image; the /api prefix works too.
  auto v = http("GET", comfy("/api/view?filename=img_00001_.png&type=output&subfolder="));
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(v.headers["content-type"], "image/png");
  EXPECT_EQ(v.body.substr(1, 3), "PNG");
  EXPECT_TRUE(http("GET", comfy("/history")).json().find("p-1"));
  EXPECT_EQ(http("GET", comfy("/history?max_items=1")).json().size(), 1u);
  http("POST", comfy("/history"), R"({"delete": ["p-1"]})");
  EXPECT_EQ(http("GET", comfy("/history/p-1")).json().size(), 0u);
}

TEST_F(ServerTest, ComfyValidationErrorsUseComfyShape) {
  start();
  auto r = http("POST", comfy("/prompt"), R"({"prompt": {"1": {"class_type": "TestHttpSave", "inputs": {"value": 999, "filename_prefix": "x", "ticks": 0, "tick_ms": 0}}}})");
  ASSERT_EQ(r.status, 400);
  JsonValue j = r.json();
  EXPECT_EQ(j.find("error")->find("type")->as_string(), "prompt_outputs_failed_validation");
  EXPECT_EQ(j.find("node_errors")->find("1")->find("errors")->items()[0].find("type")->as_string(), "value_bigger_than_max");
  // ComfyUI parses JSON whatever the Content-Type (urllib's default form type included).
  r = http("POST", comfy("/prompt"), R"({"prompt": )" + save_prompt(1) + "}",
           {"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_EQ(r.status, 200) << r.body;
  r = http("POST", comfy("/prompt"), R"({"nothing": 1})");
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(r.json().find("error")->find("type")->as_string(), "no_prompt");
  r = http("POST", comfy("/prompt"), R"({"prompt": {"1": {"class_type": "TestConstInt", "inputs": {"value": 1}}}})");
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(r.json().find("error")->find("type")->as_string(), "prompt_no_outputs");
  // Execution errors are recorded in the history.
  r = http("POST", comfy("/prompt"), R"({"prompt": {"1": {"class_type": "TestThrow", "inputs": {"value": 0}}, "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}}}, "prompt_id": "bad"})");
  ASSERT_EQ(r.status, 200);
  JsonValue h = wait_history(this, comfy(""), "bad");
  EXPECT_EQ(h.find("bad")->find("status")->find("status_str")->as_string(), "error");
  bool has_error_message = false;
  for (const auto& m : h.find("bad")->find("status")->find("messages")->items())
    has_error_message |= m.items()[0].as_string() == "execution_error";
  EXPECT_TRUE(has_error_message);
}

TEST_F(ServerTest, ComfyQueueAndInterrupt) {
  start();
  ASSERT_EQ(http("POST", comfy("/prompt"), R"({"prompt": )" + save_prompt(1, 1000, 10) + R"(, "prompt_id": "run"})").status, 200);
  ASSERT_TRUE(wait_for([&] { return ctx().queue.busy(); }));
  ASSERT_EQ(http("POST", comfy("/prompt"), R"({"prompt": )" + save_prompt(2) + R"(, "prompt_id": "wait"})").status, 200);
  JsonValue q = http("GET", comfy("/queue")).json();
  ASSERT_EQ(q.find("queue_running")->size(), 1u);
  EXPECT_EQ(q.find("queue_running")->items()[0].items()[1].as_string(), "run");
  ASSERT_EQ(q.find("queue_pending")->size(), 1u);
  EXPECT_EQ(http("GET", comfy("/prompt")).json().find("exec_info")->find("queue_remaining")->as_int(), 2);
  http("POST", comfy("/queue"), R"({"delete": ["wait"]})");
  EXPECT_EQ(http("GET", comfy("/queue")).json().find("queue_pending")->size(), 0u);
  EXPECT_EQ(http("POST", comfy("/interrupt"), R"({"prompt_id": "run"})").status, 200);
  JsonValue h = wait_history(this, comfy(""), "run");
  EXPECT_EQ(h.find("run")->find("status")->find("status_str")->as_string(), "error");
  bool interrupted = false;
  for (const auto& m : h.find("run")->find("status")->find("messages")->items())
    interrupted |= m.items()[0].as_string() == "execution_interrupted";
  EXPECT_TRUE(interrupted);
}

TEST_F(ServerTest, ComfyUploadAndViewRefuseEscapes) {
  start();
  std::string png = tiny_png();
  auto r = http("POST", comfy("/upload/image"), multipart("XyZ", "cat.png", png),
                {"Content-Type: multipart/form-data; boundary=XyZ"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().find("name")->as_string(), "cat.png");
  EXPECT_EQ(r.json().find("type")->as_string(), "input");
  EXPECT_TRUE(fs::exists(root / "input/cat.png"));
  r = http("POST", comfy("/upload/image"), multipart("XyZ", "cat.png", png), {"Content-Type: multipart/form-data; boundary=XyZ"});
  EXPECT_EQ(r.json().find("name")->as_string(), "cat (1).png");  // no overwrite
  r = http("POST", comfy("/upload/image"), multipart("XyZ", "../../evil.png", png), {"Content-Type: multipart/form-data; boundary=XyZ"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json().find("name")->as_string(), "evil.png");  // the directory part is dropped
  EXPECT_FALSE(fs::exists(root / "evil.png"));
  r = http("POST", comfy("/upload/image"),
           multipart("XyZ", "a.png", png, "Content-Disposition: form-data; name=\"subfolder\"\r\n\r\n../.."),
           {"Content-Type: multipart/form-data; boundary=XyZ"});
  EXPECT_EQ(r.status, 400);
  r = http("POST", comfy("/upload/image"), multipart("XyZ", "x.png", "not an image"), {"Content-Type: multipart/form-data; boundary=XyZ"});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(http("POST", comfy("/upload/image"), "{}").status, 415);
  EXPECT_EQ(http("GET", comfy("/view?filename=cat.png&type=input")).status, 200);
  fs::create_symlink("/etc/passwd", root / "input/link.png");
  for (const char* bad : {"/view?filename=../../etc/passwd&type=input", "/view?filename=%2Fetc%2Fpasswd&type=input",
                          "/view?filename=link.png&type=input", "/view?filename=cat.png&type=input&subfolder=..",
                          "/view?filename=cat.png&type=secrets"}) {
    auto v = http("GET", comfy(bad));
    EXPECT_TRUE(v.status == 404 || v.status == 400) << bad << " -> " << v.status;
  }
  EXPECT_EQ(http("GET", comfy("/view")).status, 400);
}

TEST_F(ServerTest, ComfyInfoRoutes) {
  std::ofstream(root / "models/embeddings/emb.safetensors") << "x";
  std::ofstream(root / "models/checkpoints/c.safetensors") << "x";
  start();
  JsonValue all = http("GET", comfy("/object_info")).json();
  EXPECT_TRUE(all.find("TestHttpSave") && all.find("TestAdd"));
  JsonValue one = http("GET", comfy("/object_info/TestHttpSave")).json();
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(one.find("TestHttpSave")->find("output_node")->as_bool());
  EXPECT_EQ(http("GET", comfy("/object_info/Nope")).json().size(), 0u);
  JsonValue stats = http("GET", comfy("/system_stats")).json();
  EXPECT_TRUE(stats.find("system")->find("ram_total")->is_int());
  EXPECT_EQ(stats.find("devices")->items()[0].find("name")->as_string(), "test device");
  JsonValue folders = http("GET", comfy("/models")).json();
  EXPECT_EQ(folders.items()[0].as_string(), "checkpoints");
  EXPECT_EQ(http("GET", comfy("/models/checkpoints")).json().items()[0].as_string(), "c.safetensors");
  EXPECT_EQ(http("GET", comfy("/models/secrets")).status, 404);
  EXPECT_EQ(http("GET", comfy("/embeddings")).json().items()[0].as_string(), "emb");
  EXPECT_EQ(http("POST", comfy("/free"), R"({"unload_models": true})").status, 200);
}

TEST_F(ServerTest, ComfyJobsListAndDetail) {
  start();
  ASSERT_EQ(http("POST", comfy("/prompt"), R"({"prompt": )" + save_prompt(1) + R"(, "prompt_id": "done"})").status, 200);
  wait_history(this, comfy(""), "done");
  ASSERT_EQ(http("POST", comfy("/prompt"), R"({"prompt": )" + save_prompt(1, 1000, 10) + R"(, "prompt_id": "busy"})").status, 200);
  ASSERT_TRUE(wait_for([&] { return ctx().queue.busy(); }));
  JsonValue list = http("GET", comfy("/api/jobs")).json();
  ASSERT_EQ(list.find("jobs")->size(), 2u);
  EXPECT_EQ(list.find("jobs")->items()[0].find("id")->as_string(), "busy");  // newest first
  EXPECT_EQ(list.find("jobs")->items()[0].find("status")->as_string(), "in_progress");
  EXPECT_EQ(list.find("pagination")->find("total")->as_int(), 2);
  JsonValue done = http("GET", comfy("/api/jobs/done")).json();
  EXPECT_EQ(done.find("status")->as_string(), "completed");
  EXPECT_EQ(done.find("outputs_count")->as_int(), 1);
  EXPECT_EQ(done.find("preview_output")->find("filename")->as_string(), "img_00001_.png");
  EXPECT_TRUE(done.find("execution_start_time") && done.find("workflow"));
  EXPECT_EQ(http("GET", comfy("/api/jobs?status=completed&limit=1")).json().find("jobs")->size(), 1u);
  EXPECT_EQ(http("GET", comfy("/api/jobs/nope")).status, 404);
  http("POST", comfy("/interrupt"), "{}");
  EXPECT_TRUE(wait_for([&] { return !ctx().queue.busy(); }));
}

}  // namespace vkdream::server::test
