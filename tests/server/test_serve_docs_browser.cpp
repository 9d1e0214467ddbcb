// GET /docs of a `vkdream serve` process in headless Chromium (Debian's chromium, installed by scripts/setup.sh):
// the DOM after Swagger UI ran must show our OpenAPI document rendered (its title, an operation block for /prompt
// and one for the workflow endpoint /workflow/sd1.5/txt2img), and the screenshot must be a non-blank PNG.
// VKDREAM_SKIP_BROWSER_TESTS=1 skips it; a missing chromium otherwise fails it.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iostream>
#include <set>
#include <sstream>

#include "media/image_decode.h"
#include "serve_process.h"

namespace vkdream::server::test {

namespace fs = std::filesystem;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST(ServeDocsBrowser, SwaggerUiRendersTheSpec) {
  if (const char* skip = std::getenv("VKDREAM_SKIP_BROWSER_TESTS"); skip && std::string(skip) == "1")
    GTEST_SKIP() << "VKDREAM_SKIP_BROWSER_TESTS=1: the headless Chromium test of /docs is skipped";
  std::string chromium = find_program("chromium");
  ASSERT_FALSE(chromium.empty()) << "chromium is not on PATH: scripts/setup.sh installs Debian's chromium "
                                    "(or set VKDREAM_SKIP_BROWSER_TESTS=1 to skip this test)";

  ServeProcess server;
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  ASSERT_EQ(http_get(server.serving_url() + "/docs").first, 200) << server.log();

  const std::string shot = std::string(VKDREAM_BUILD_DIR) + "/Testing/docs.png";
  fs::create_directories(fs::path(shot).parent_path());
  fs::remove(shot);
  // The closed network refuses Chromium's own connections: no background networking, updates, sync or QUIC.
  // Virtual time lets Swagger UI fetch /openapi.json and render before the DOM is dumped and the shot taken.
  CommandResult r = run_command({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                 "--disable-sync", "--disable-extensions", "--user-data-dir=" + server.root() + "/chromium",
                                 "--window-size=1280,2000", "--virtual-time-budget=15000", "--screenshot=" + shot,
                                 "--dump-dom", server.serving_url() + "/docs"},
                                50);
  ASSERT_EQ(r.status, 0) << "chromium failed; stderr:\n" << r.err;
  const std::string& dom = r.out;
  EXPECT_NE(dom.find("class=\"swagger-ui\""), std::string::npos) << "Swagger UI did not render:\n" << dom.substr(0, 3000);
  EXPECT_NE(dom.find("<h1 class=\"title\">vkdream"), std::string::npos) << "no title:\n" << dom.substr(0, 3000);
  for (const char* path : {"/prompt", "/workflow/sd1.5/txt2img", "/workflow/sd1.5/img2img", "/health"})
    EXPECT_NE(dom.find(std::string("data-path=\"") + path + "\""), std::string::npos) << "no operation block for " << path;
  EXPECT_EQ(dom.find("Failed to load API definition"), std::string::npos);

  // The screenshot: a 1280x2000 PNG with more on it than one colour.
  std::cout << "screenshot: " << shot << "\n";
  ASSERT_TRUE(fs::exists(shot)) << "no screenshot; chromium stderr:\n" << r.err;
  media::DecodedImage img = media::decode_image(read_bytes(shot), 3);
  EXPECT_EQ(img.width, 1280);
  EXPECT_EQ(img.height, 2000);
  std::set<uint32_t> colours;
  size_t non_white = 0;
  for (size_t i = 0; i + 2 < img.pixels.size(); i += 3) {
    uint32_t c = img.pixels[i] << 16 | img.pixels[i + 1] << 8 | img.pixels[i + 2];
    colours.insert(c);
    non_white += c != 0xffffff;
  }
  EXPECT_GT(colours.size(), 16u) << "the screenshot is (nearly) one colour";
  EXPECT_GT(non_white, img.pixels.size() / 3 / 100) << "under 1% of the screenshot is not white";
  std::cout << "docs.png: " << img.width << "x" << img.height << ", " << colours.size() << " colours, "
            << 100.0 * non_white / (img.pixels.size() / 3) << "% non-white\n";
}

}  // namespace vkdream::server::test
