// ComfyUI_essentials' "ImageResize+" (the node the serving img2img template uses): target size from width/height,
// method (stretch, keep proportion, fill / crop, pad), condition, multiple_of; torch interpolate; clamp to [0, 1].
// Outputs IMAGE, width, height.
#include <algorithm>

#include "image.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/resize_lanczos.h"
#include "upscale.h"

namespace vkdream::packs::image {

void image_resize_plus(vkd::Context& c) {
  const Tensor& image = image_in(c, "image").pixels;  // [B, H, W, C]
  int64_t width = c.get_int("width"), height = c.get_int("height");
  const std::string interpolation = c.get_string("interpolation"), method = c.get_string("method"),
                    condition = c.get_string("condition");
  const int64_t multiple_of = c.get_int("multiple_of");
  const int64_t oh = image.dim(1), ow = image.dim(2);
  constexpr int64_t kMaxResolution = 16384;
  int64_t x = 0, y = 0, x2 = 0, y2 = 0, pad_left = 0, pad_right = 0, pad_top = 0, pad_bottom = 0;

  if (multiple_of > 1) {
    width -= width % multiple_of;
    height -= height % multiple_of;
  }
  if (method == "keep proportion" || method == "pad") {
    if (width == 0 && oh < height)
      width = kMaxResolution;
    else if (width == 0 && oh >= height)
      width = ow;
    if (height == 0 && ow < width)
      height = kMaxResolution;
    else if (height == 0 && ow >= width)
      height = oh;
    double ratio = std::min(double(width) / double(ow), double(height) / double(oh));
    int64_t nw = py_round(double(ow) * ratio), nh = py_round(double(oh) * ratio);
    if (method == "pad") {
      pad_left = (width - nw) / 2;
      pad_right = width - nw - pad_left;
      pad_top = (height - nh) / 2;
      pad_bottom = height - nh - pad_top;
    }
    width = nw;
    height = nh;
  } else if (method.rfind("fill", 0) == 0) {
    width = width > 0 ? width : ow;
    height = height > 0 ? height : oh;
    double ratio = std::max(double(width) / double(ow), double(height) / double(oh));
    int64_t nw = py_round(double(ow) * ratio), nh = py_round(double(oh) * ratio);
    x = (nw - width) / 2;
    y = (nh - height) / 2;
    x2 = x + width;
    y2 = y + height;
    if (x2 > nw) x -= x2 - nw;
    if (x < 0) x = 0;
    if (y2 > nh) y -= y2 - nh;
    if (y < 0) y = 0;
    width = nw;
    height = nh;
  } else {
    width = width > 0 ? width : ow;
    height = height > 0 ? height : oh;
  }

  bool resize = condition == "always" ||
                (condition == "downscale if bigger" && (oh > height || ow > width)) ||
                (condition == "upscale if smaller" && (oh < height || ow < width)) ||
                (condition == "if bigger area" && oh * ow > height * width) ||
                (condition == "if smaller area" && oh * ow < height * width);
  NodeStream ns;
  vk::Stream& s = ns;
  Tensor out = image;
  if (resize) {
    Tensor t = ops::permute(s, image, {0, 3, 1, 2});
    t = interpolation == "lanczos" ? ops::resize_lanczos_u8(s, t, height, width)
                                   : ops::resize(s, t, height, width, resize_mode(interpolation));
    if (method == "pad" && (pad_left > 0 || pad_right > 0 || pad_top > 0 || pad_bottom > 0))
      t = ops::pad2d(s, t, pad_top, pad_bottom, pad_left, pad_right);
    out = ops::permute(s, t, {0, 2, 3, 1});
    if (method.rfind("fill", 0) == 0 && (x > 0 || y > 0 || x2 > 0 || y2 > 0))
      out = ops::slice(s, ops::slice(s, out, 1, y, std::min(y2, out.dim(1))), 2, x, std::min(x2, out.dim(2)));
  }
  if (multiple_of > 1 && (out.dim(2) % multiple_of != 0 || out.dim(1) % multiple_of != 0)) {
    int64_t w = out.dim(2), h = out.dim(1);
    int64_t cx = (w % multiple_of) / 2, cy = (h % multiple_of) / 2;
    int64_t cx2 = w - ((w % multiple_of) - cx), cy2 = h - ((h % multiple_of) - cy);
    out = ops::slice(s, ops::slice(s, out, 1, cy, cy2), 2, cx, cx2);
  }
  out = ops::affine_clamp(s, out, 1.0f, 0.0f, 0.0f, 1.0f);
  ns.s.submit();
  int64_t ow2 = out.dim(2), oh2 = out.dim(1);
  set_image(c, 0, out);
  c.set_int(1, ow2);
  c.set_int(2, oh2);
}

}  // namespace vkdream::packs::image
