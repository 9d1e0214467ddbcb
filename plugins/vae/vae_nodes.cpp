// VAEDecode / VAEEncode (+ Tiled) and VAEEncodeForInpaint (nodes.py, comfy/sd.py VAE). IMAGE is [B, H, W, C]
// (ComfyUI's layout); the VAE works on [B, C, H, W], so the nodes permute at the boundary.
#include <cmath>

#include "model/vae_tiled.h"
#include "ops/activation.h"
#include "ops/conv2d.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/resize.h"
#include "pack_util.h"

namespace vkdream::packs::vae_nodes {

namespace {

Tensor to_nhwc(vk::Stream& s, const Tensor& nchw) { return ops::permute(s, nchw, {0, 2, 3, 1}); }
Tensor to_nchw(vk::Stream& s, const Tensor& nhwc) { return ops::permute(s, nhwc, {0, 3, 1, 2}); }

// The first three channels of an IMAGE as [B, 3, H, W] (pixels[:, :, :, :3]).
Tensor rgb_nchw(vk::Stream& s, const Tensor& image) {
  Tensor x = to_nchw(s, image);
  return x.dim(1) == 3 ? x : ops::slice(s, x, 1, 0, 3);
}

// VAE.vae_encode_crop_pixels: crops [B, C, H, W] to multiples of 8, centred (offset (size % 8) // 2).
Tensor crop_to_multiple(vk::Stream& s, const Tensor& x, int64_t m) {
  int64_t h = x.dim(2), w = x.dim(3), hh = (h / m) * m, ww = (w / m) * m;
  Tensor out = x;
  if (hh != h) out = ops::slice(s, out, 2, (h % m) / 2, (h % m) / 2 + hh);
  if (ww != w) out = ops::slice(s, out, 3, (w % m) / 2, (w % m) / 2 + ww);
  return out;
}

}  // namespace

void vae_decode(vkd::Context& c) {
  const payload::Vae& vae = vae_in(c, "vae");
  const payload::Latent& latent = latent_in(c, "samples");
  NodeStream ns;
  Tensor img = to_nhwc(ns, vae.vae->decode(ns, latent.samples));
  ns.s.submit();
  set_image(c, 0, img);
}

void vae_encode(vkd::Context& c) {
  const payload::Vae& vae = vae_in(c, "vae");
  NodeStream ns;
  Tensor x = crop_to_multiple(ns, rgb_nchw(ns, image_in(c, "pixels").pixels), vae.vae->downscale());
  Tensor z = vae.vae->encode(ns, x);
  ns.s.submit();
  set_latent(c, 0, payload::Latent{z, std::nullopt, {}});
}

void vae_decode_tiled(vkd::Context& c) {
  const payload::Vae& vae = vae_in(c, "vae");
  const payload::Latent& latent = latent_in(c, "samples");
  NodeStream ns;
  Tensor img = model::vae_decode_tiled_node(ns, *vae.vae, latent.samples, c.get_int("tile_size"), c.get_int("overlap"));
  img = to_nhwc(ns, img);
  ns.s.submit();
  set_image(c, 0, img);
}

void vae_encode_tiled(vkd::Context& c) {
  const payload::Vae& vae = vae_in(c, "vae");
  NodeStream ns;
  Tensor x = rgb_nchw(ns, image_in(c, "pixels").pixels);
  Tensor z = model::vae_encode_tiled_node(ns, *vae.vae, x, c.get_int("tile_size"), c.get_int("overlap"));
  ns.s.submit();
  set_latent(c, 0, payload::Latent{z, std::nullopt, {}});
}

// VAEEncodeForInpaint: the mask (bilinear to the image size) greys out the masked pixels before encoding, and,
// grown by grow_mask_by with a box filter (ComfyUI's even kernel with padding ceil((k-1)/2) makes the growth
// one cell larger on the bottom/right), becomes the latent's noise mask.
void vae_encode_for_inpaint(vkd::Context& c) {
  const payload::Vae& vae = vae_in(c, "vae");
  const Tensor& pixels_in = image_in(c, "pixels").pixels;  // [B, H, W, C]
  const Tensor& mask_in_t = mask_in(c, "mask").mask;
  int64_t grow = c.get_int("grow_mask_by");
  const int64_t f = vae.vae->downscale();
  const int64_t H = pixels_in.dim(1), W = pixels_in.dim(2);
  const int64_t hh = (H / f) * f, ww = (W / f) * f;

  NodeStream ns;
  vk::Stream& s = ns;
  Tensor mask = mask_in_t.reshape({mask_in_t.numel() / (mask_in_t.dim(-2) * mask_in_t.dim(-1)), 1, mask_in_t.dim(-2),
                                   mask_in_t.dim(-1)});
  mask = ops::resize(s, mask, H, W, ops::ResizeMode::kBilinear);
  Tensor pixels = rgb_nchw(s, pixels_in);
  if (hh != H || ww != W) {
    int64_t oy = (H % f) / 2, ox = (W % f) / 2;
    pixels = ops::slice(s, ops::slice(s, pixels, 2, oy, oy + hh), 3, ox, ox + ww);
    mask = ops::slice(s, ops::slice(s, mask, 2, oy, oy + hh), 3, ox, ox + ww);
  }
  Tensor rounded = ops::round(s, mask);
  Tensor erosion = rounded;
  if (grow > 0) {
    Tensor kernel = Tensor::empty(s.ctx(), {1, 1, grow, grow}, DType::F32);
    upload(s, kernel, std::vector<float>(size_t(grow * grow), 1.0f));
    ops::Conv2dParams p;
    p.padding = int((grow - 1 + 1) / 2);  // ceil((grow - 1) / 2)
    Tensor conv = ops::conv2d(s, rounded, kernel, nullptr, p);
    erosion = ops::affine_clamp(s, conv, 1.0f, 0.0f, 0.0f, 1.0f);
  }
  // noise_mask = erosion[:, :, :hh, :ww].round()
  if (erosion.dim(2) != hh) erosion = ops::slice(s, erosion, 2, 0, hh);
  if (erosion.dim(3) != ww) erosion = ops::slice(s, erosion, 3, 0, ww);
  Tensor noise_mask = ops::round(s, erosion);
  // pixels = (pixels - 0.5) * (1 - round(mask)) + 0.5, per channel.
  Tensor keep = ops::lincomb(s, {{-1.0, &rounded}}, 1.0);  // [B, 1, h, w], broadcast over channels
  Tensor centred = ops::lincomb(s, {{1.0, &pixels}}, -0.5);
  Tensor masked = ops::mul(s, centred, keep);
  Tensor grey = ops::lincomb(s, {{1.0, &masked}}, 0.5);
  Tensor z = vae.vae->encode(s, grey);
  ns.s.submit();
  set_latent(c, 0, payload::Latent{z, noise_mask, {}});
}

}  // namespace vkdream::packs::vae_nodes
