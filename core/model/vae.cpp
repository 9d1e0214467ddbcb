#include "model/vae.h"

#include <stdexcept>

#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/conv2d.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/norm.h"
#include "ops/resize.h"

namespace vkdream::model {
namespace {
constexpr int kGroups = 32;
constexpr float kEps = 1e-6f;

Tensor as_conv1x1(const Tensor& w) { return w.rank() == 4 ? w : w.reshape({w.dim(0), w.dim(1), 1, 1}); }
}  // namespace

// ResnetBlock: norm1, swish, conv1, norm2, swish, (dropout), conv2, + x (nin_shortcut when widths differ).
Tensor VAE::resnet_block(vk::Stream& s, const WeightScope& w, const Tensor& x) const {
  Tensor h = ops::group_norm(s, x, w["norm1.weight"], w["norm1.bias"], kGroups, kEps, true);
  h = ops::conv2d(s, h, w["conv1.weight"], &w["conv1.bias"], {1, 1});
  h = ops::group_norm(s, h, w["norm2.weight"], w["norm2.bias"], kGroups, kEps, true);
  Tensor skip = x;
  if (const Tensor* nw = w.find("nin_shortcut.weight")) skip = ops::conv2d(s, x, *nw, &w["nin_shortcut.bias"], {1, 0});
  return ops::conv2d(s, h, w["conv2.weight"], &w["conv2.bias"], {1, 1}, &skip);
}

// AttnBlock: single-head attention over the H*W positions with 1x1-conv q, k, v and proj_out, + x.
Tensor VAE::attn_block(vk::Stream& s, const WeightScope& w, const Tensor& x) const {
  const int64_t b = x.dim(0), c = x.dim(1), hh = x.dim(2), ww = x.dim(3);
  Tensor h = ops::group_norm(s, x, w["norm.weight"], w["norm.bias"], kGroups, kEps);
  auto tokens = [&](const char* name) {
    Tensor p = ops::conv2d(s, h, as_conv1x1(w[std::string(name) + ".weight"]), &w[std::string(name) + ".bias"], {1, 0});
    return ops::permute(s, p, {0, 2, 3, 1}).reshape({b, hh * ww, c});  // [B, HW, C]
  };
  Tensor q = tokens("q"), k = tokens("k"), v = tokens("v");
  Tensor a = ops::attention(s, q, k, v, 1);                                // [B, HW, C]
  a = ops::permute(s, a.reshape({b, hh, ww, c}), {0, 3, 1, 2});            // [B, C, H, W]
  return ops::conv2d(s, a, as_conv1x1(w["proj_out.weight"]), &w["proj_out.bias"], {1, 0}, &x);
}

Tensor VAE::decode(vk::Stream& s, const Tensor& latent) const {
  return ops::clamp01_affine(s, decode_raw(s, latent), 0.5f, 0.5f);  // clamp((x + 1) / 2, 0, 1)
}

Tensor VAE::decode_raw(vk::Stream& s, const Tensor& latent) const {
  if (latent.rank() != 4 || latent.dim(1) != cfg_.embed_dim)
    throw std::invalid_argument("VAE decode expects [B, " + std::to_string(cfg_.embed_dim) + ", h, w], got " + latent.str());
  const DType dt = w_.storage();
  WeightScope root(w_, "");
  Tensor h = latent.dtype() == dt ? latent : ops::cast(s, latent, dt);
  h = ops::conv2d(s, h, root["post_quant_conv.weight"], &root["post_quant_conv.bias"], {1, 0});
  auto dec = root.sub("decoder");
  h = ops::conv2d(s, h, dec["conv_in.weight"], &dec["conv_in.bias"], {1, 1});
  h = resnet_block(s, dec.sub("mid.block_1"), h);
  h = attn_block(s, dec.sub("mid.attn_1"), h);
  h = resnet_block(s, dec.sub("mid.block_2"), h);
  const int levels = int(cfg_.ch_mult.size());
  for (int level = levels - 1; level >= 0; --level) {
    auto up = dec.sub("up." + std::to_string(level));
    for (int i = 0; i <= cfg_.num_res_blocks; ++i) h = resnet_block(s, up.sub("block." + std::to_string(i)), h);
    if (level != 0) {
      auto conv = up.sub("upsample.conv");
      h = ops::conv2d(s, ops::upsample_nearest2x(s, h), conv["weight"], &conv["bias"], {1, 1});
    }
  }
  h = ops::group_norm(s, h, dec["norm_out.weight"], dec["norm_out.bias"], kGroups, kEps, true);
  h = ops::conv2d(s, h, dec["conv_out.weight"], &dec["conv_out.bias"], {1, 1});  // [B, 3, H, W] in ~[-1, 1]
  if (h.dtype() != DType::F32) h = ops::cast(s, h, DType::F32);
  return h;
}

Tensor VAE::encode(vk::Stream& s, const Tensor& image) const {
  if (image.rank() != 4 || image.dim(1) != cfg_.in_channels)
    throw std::invalid_argument("VAE encode expects [B, 3, H, W], got " + image.str());
  const int64_t f = downscale();
  if (image.dim(2) % f || image.dim(3) % f)
    throw std::invalid_argument("VAE encode: image size must be a multiple of " + std::to_string(f) + ", got " +
                                image.str());
  const DType dt = w_.storage();
  WeightScope root(w_, "");
  Tensor h = ops::scale(s, image, 2.0f, -1.0f);  // [0, 1] -> [-1, 1]
  if (dt != DType::F32) h = ops::cast(s, h, dt);
  auto enc = root.sub("encoder");
  h = ops::conv2d(s, h, enc["conv_in.weight"], &enc["conv_in.bias"], {1, 1});
  const int levels = int(cfg_.ch_mult.size());
  for (int level = 0; level < levels; ++level) {
    auto down = enc.sub("down." + std::to_string(level));
    for (int i = 0; i < cfg_.num_res_blocks; ++i) h = resnet_block(s, down.sub("block." + std::to_string(i)), h);
    if (level + 1 < levels) {
      // Downsample pads right and bottom by one, then a 3x3 stride-2 conv without padding: the conv reads the
      // padding as zeros (pad_after), so the padded copy (over one binding in f32 at 512 px) is never made.
      auto conv = down.sub("downsample.conv");
      h = ops::conv2d(s, h, conv["weight"], &conv["bias"], {2, 0, 1});
    }
  }
  h = resnet_block(s, enc.sub("mid.block_1"), h);
  h = attn_block(s, enc.sub("mid.attn_1"), h);
  h = resnet_block(s, enc.sub("mid.block_2"), h);
  h = ops::group_norm(s, h, enc["norm_out.weight"], enc["norm_out.bias"], kGroups, kEps, true);
  h = ops::conv2d(s, h, enc["conv_out.weight"], &enc["conv_out.bias"], {1, 1});  // [B, 2z, h, w]
  h = ops::conv2d(s, h, root["quant_conv.weight"], &root["quant_conv.bias"], {1, 0});
  Tensor mean = ops::slice(s, h, 1, 0, cfg_.embed_dim);  // the posterior's mean; the log-variance is unused
  return mean.dtype() == DType::F32 ? mean : ops::cast(s, mean, DType::F32);
}

}  // namespace vkdream::model
