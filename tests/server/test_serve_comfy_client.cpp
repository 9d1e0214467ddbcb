// A real ComfyUI client from npm (@stable-canvas/comfyui-client, a devDependency in package.json) drives the
// ComfyUI API of a `vkdream serve` process: comfy_client/queue_poll_fetch.mjs enqueues the txt2img fixture graph
// (2 steps, 64x64, tiny checkpoint), polls /queue and /history as the client does without a WebSocket, and fetches
// the PNG from /view.
#include <filesystem>
#include <gtest/gtest.h>
#include <iostream>

#include "serve_process.h"

namespace vkdream::server::test {

namespace fs = std::filesystem;

TEST(ServeComfyClient, EnqueuePollingFetchesThePng) {
  const std::string src = VKDREAM_SOURCE_DIR;
  std::string node = find_program("node");
  ASSERT_FALSE(node.empty()) << "node is not on PATH (scripts/setup.sh installs Node.js)";
  ASSERT_TRUE(fs::exists(src + "/node_modules/@stable-canvas/comfyui-client/package.json"))
      << "the ComfyUI client is not installed: run `npm ci --ignore-scripts` in " << src << " (scripts/setup.sh does)";

  ServeProcess server;
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  CommandResult r = run_command({node, src + "/tests/server/comfy_client/queue_poll_fetch.mjs", server.comfy_url(),
                                 src + "/tests/fixtures/graphs/txt2img_template/prompt.json", "2"},
                                45);
  std::cout << r.out;
  EXPECT_EQ(r.status, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err << "\nserver log:\n" << server.log();
  EXPECT_NE(r.out.find("queue_poll_fetch: OK"), std::string::npos) << r.out;
  EXPECT_EQ(server.stop(), 0) << server.log();  // SIGTERM drains and exits 0
}

}  // namespace vkdream::server::test
