// ImageScale, ImageScaleBy, ImageInvert, ImageBatch (nodes.py). IMAGE is [B, H, W, C]; resizing runs on
// [B, C, H, W] (common_upscale), so these permute around it.
#include <algorithm>

#include "image.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "upscale.h"

namespace vkdream::packs::image {

namespace {

Tensor upscale_nhwc(vk::Stream& s, const Tensor& img, int64_t w, int64_t h, const std::string& method,
                    const std::string& crop) {
  Tensor x = ops::permute(s, img, {0, 3, 1, 2});
  Tensor y = common_upscale(s, x, w, h, method, crop);
  return ops::permute(s, y, {0, 2, 3, 1});
}

}  // namespace

void image_scale(vkd::Context& c) {
  const Tensor& img = image_in(c, "image").pixels;
  int64_t width = c.get_int("width"), height = c.get_int("height");
  if (width == 0 && height == 0) {
    set_image(c, 0, img);
    return;
  }
  if (width == 0)
    width = std::max<int64_t>(1, py_round(double(img.dim(2)) * double(height) / double(img.dim(1))));
  else if (height == 0)
    height = std::max<int64_t>(1, py_round(double(img.dim(1)) * double(width) / double(img.dim(2))));
  NodeStream ns;
  Tensor out = upscale_nhwc(ns, img, width, height, c.get_string("upscale_method"), c.get_string("crop"));
  ns.s.submit();
  set_image(c, 0, out);
}

void image_scale_by(vkd::Context& c) {
  const Tensor& img = image_in(c, "image").pixels;
  double scale = c.get_float("scale_by");
  int64_t width = py_round(double(img.dim(2)) * scale), height = py_round(double(img.dim(1)) * scale);
  NodeStream ns;
  Tensor out = upscale_nhwc(ns, img, width, height, c.get_string("upscale_method"), "disabled");
  ns.s.submit();
  set_image(c, 0, out);
}

void image_invert(vkd::Context& c) {
  const Tensor& img = image_in(c, "image").pixels;
  NodeStream ns;
  Tensor out = ops::lincomb(ns, {{-1.0, &img}}, 1.0);
  ns.s.submit();
  set_image(c, 0, out);
}

void image_batch(vkd::Context& c) {
  const Tensor& a = image_in(c, "image1").pixels;
  Tensor b = image_in(c, "image2").pixels;
  NodeStream ns;
  if (a.dim(1) != b.dim(1) || a.dim(2) != b.dim(2) || a.dim(3) != b.dim(3)) {
    if (a.dim(3) != b.dim(3)) value_error("ImageBatch: the images have different channel counts");
    b = upscale_nhwc(ns, b, a.dim(2), a.dim(1), "bilinear", "center");
  }
  Tensor out = ops::concat(ns, {a, b}, 0);
  ns.s.submit();
  set_image(c, 0, out);
}

}  // namespace vkdream::packs::image
