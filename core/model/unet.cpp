#include "model/unet.h"

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/conv2d.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/fourier_filter.h"
#include "ops/layout.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "ops/resize.h"

namespace vkdream::model {
namespace {
constexpr int kGroups = 32;
constexpr float kResEps = 1e-5f;        // GroupNorm in ResBlocks and out.0
constexpr float kTransformerEps = 1e-6f;  // SpatialTransformer.norm
constexpr float kLayerNormEps = 1e-5f;

// A 1x1 conv's weight [O, C, 1, 1] (or a linear one [O, C], as some checkpoints store proj_in) as [O, C].
Tensor as_matrix(const Tensor& w) { return w.rank() == 2 ? w : w.reshape({w.dim(0), w.dim(1)}); }

// attn1 / attn2: to_q, to_k, to_v (no bias), to_out.0 (+ bias), the residual fused into to_out.
// keys: how many rows of ctx are real (0: all; the text context comes padded to a multiple of 8 rows).
Tensor cross_attention(vk::Stream& s, const WeightScope& w, const Tensor& x, const Tensor& ctx, int heads,
                       const Tensor& residual, int64_t keys = 0) {
  Tensor a = ops::projected_attention(s, x, ctx, w["to_q.weight"], w["to_k.weight"], w["to_v.weight"], heads,
                                      keys);  // [B, N, C]
  return ops::linear(s, a, w["to_out.0.weight"], &w["to_out.0.bias"], &residual);
}
}  // namespace

// ResBlock: in_layers (GroupNorm, SiLU, conv3x3), + emb_layers (SiLU, linear) broadcast over HxW,
// out_layers (GroupNorm, SiLU, dropout, conv3x3), + skip_connection(x).
Tensor UNet::res_block(vk::Stream& s, const WeightScope& w, const Tensor& x, const Tensor& emb_silu) const {
  Tensor h = ops::group_norm(s, x, w["in_layers.0.weight"], w["in_layers.0.bias"], kGroups, kResEps, true);
  h = ops::conv2d(s, h, w["in_layers.2.weight"], &w["in_layers.2.bias"], {1, 1});  // [B, Cout, H, W]
  Tensor e = ops::linear(s, emb_silu, w["emb_layers.1.weight"], &w["emb_layers.1.bias"]);  // [B, Cout]
  h = ops::add(s, h, e.reshape({e.dim(0), e.dim(1), 1, 1}));
  h = ops::group_norm(s, h, w["out_layers.0.weight"], w["out_layers.0.bias"], kGroups, kResEps, true);
  Tensor skip = x;
  if (const Tensor* sw = w.find("skip_connection.weight")) skip = ops::conv2d(s, x, *sw, &w["skip_connection.bias"], {1, 0});
  return ops::conv2d(s, h, w["out_layers.3.weight"], &w["out_layers.3.bias"], {1, 1}, &skip);
}

// SpatialTransformer: GroupNorm, proj_in, BasicTransformerBlocks on tokens [B, HW, C], proj_out, + x.
Tensor UNet::spatial_transformer(vk::Stream& s, const WeightScope& w, const Tensor& x, const Tensor& context,
                                 int64_t keys) const {
  const int64_t b = x.dim(0), c = x.dim(1), hh = x.dim(2), ww = x.dim(3);
  Tensor h = ops::group_norm(s, x, w["norm.weight"], w["norm.bias"], kGroups, kTransformerEps);
  // proj_in (a 1x1 conv) on the tokens: one transpose, where the conv's im2col and a permute back made two.
  h = ops::permute(s, h, {0, 2, 3, 1}).reshape({b, hh * ww, c});           // [B, HW, C]
  h = ops::linear(s, h, as_matrix(w["proj_in.weight"]), &w["proj_in.bias"]);  // [B, HW, C]
  const int heads = cfg_.num_heads;
  for (int d = 0; d < cfg_.transformer_depth; ++d) {
    auto blk = w.sub("transformer_blocks." + std::to_string(d));
    Tensor n = ops::layer_norm(s, h, blk["norm1.weight"], blk["norm1.bias"], kLayerNormEps);
    h = cross_attention(s, blk.sub("attn1"), n, n, heads, h);  // self-attention
    n = ops::layer_norm(s, h, blk["norm2.weight"], blk["norm2.bias"], kLayerNormEps);
    h = cross_attention(s, blk.sub("attn2"), n, context, heads, h, keys);  // cross-attention to the text
    n = ops::layer_norm(s, h, blk["norm3.weight"], blk["norm3.bias"], kLayerNormEps);
    Tensor f = ops::linear_geglu(s, n, blk["ff.net.0.proj.weight"], &blk["ff.net.0.proj.bias"]);  // [B, HW, 4C]
    h = ops::linear(s, f, blk["ff.net.2.weight"], &blk["ff.net.2.bias"], &h);             // [B, HW, C]
  }
  return ops::conv1x1_tokens(s, h, hh, ww, w["proj_out.weight"], &w["proj_out.bias"], &x);  // [B, C, H, W]
}

ops::FFTPlans& UNet::fft_plans(vk::Stream& s) const {
  static std::mutex mu;  // forward is const and may run on several threads
  std::lock_guard<std::mutex> lock(mu);
  if (!fft_plans_) fft_plans_ = std::make_shared<ops::FFTPlans>(s.ctx());
  return *fft_plans_;
}

Tensor UNet::forward(vk::Stream& s, const Tensor& x, const std::vector<float>& timesteps, const Tensor& context,
                     const UNetPatches& patches) const {
  if (patches.freeu && patches.freeu->version != 1 && patches.freeu->version != 2)
    throw std::invalid_argument("UNet: FreeU version must be 1 or 2, got " + std::to_string(patches.freeu->version));
  if (x.rank() != 4 || x.dim(1) != cfg_.in_channels)
    throw std::invalid_argument("UNet input must be [B, " + std::to_string(cfg_.in_channels) + ", H, W], got " + x.str());
  if (int64_t(timesteps.size()) != x.dim(0))
    throw std::invalid_argument("UNet: " + std::to_string(timesteps.size()) + " timesteps for a batch of " +
                                std::to_string(x.dim(0)));
  if (context.rank() != 3 || context.dim(0) != x.dim(0) || context.dim(2) != cfg_.context_dim)
    throw std::invalid_argument("UNet context must be [B, L, " + std::to_string(cfg_.context_dim) + "], got " +
                                context.str());
  const int levels = int(cfg_.channel_mult.size());
  const DType dt = w_.storage();
  WeightScope root(w_, "");

  // time_embed: sinusoidal(t, C) -> linear -> SiLU -> linear; SiLU(emb) is what every ResBlock uses.
  Tensor t = from_host(s, {int64_t(timesteps.size())}, DType::F32, timesteps);
  Tensor emb = ops::timestep_embedding(s, t, cfg_.model_channels);  // [B, C] f32
  if (dt != DType::F32) emb = ops::cast(s, emb, dt);
  emb = ops::linear(s, emb, root["time_embed.0.weight"], &root["time_embed.0.bias"]);
  emb = ops::silu(s, emb);
  emb = ops::linear(s, emb, root["time_embed.2.weight"], &root["time_embed.2.bias"]);  // [B, 4C]
  Tensor emb_silu = ops::silu(s, emb);

  Tensor h = x.dtype() == dt ? x : ops::cast(s, x, dt);
  Tensor ctx = context.dtype() == dt ? context : ops::cast(s, context, dt);
  // The text context padded with zero rows to a multiple of 8 keys (the CPU device's GEMM takes K % 8 == 0): once
  // here rather than in each of the 16 cross-attentions, whose softmax leaves the padding out.
  const int64_t keys = ctx.dim(1);
  if (keys % 8) ctx = ops::pad2d(s, ctx, 0, 8 - keys % 8, 0, 0);
  auto has_attention = [&](int level) {
    return std::find(cfg_.attention_levels.begin(), cfg_.attention_levels.end(), level) != cfg_.attention_levels.end();
  };

  std::vector<Tensor> skips;
  h = ops::conv2d(s, h, root["input_blocks.0.0.weight"], &root["input_blocks.0.0.bias"], {1, 1});  // [B, C, H, W]
  skips.push_back(h);
  int idx = 1;
  for (int level = 0; level < levels; ++level) {
    for (int r = 0; r < cfg_.num_res_blocks; ++r, ++idx) {
      auto blk = root.sub("input_blocks." + std::to_string(idx));
      h = res_block(s, blk.sub("0"), h, emb_silu);
      if (has_attention(level)) h = spatial_transformer(s, blk.sub("1"), h, ctx, keys);
      skips.push_back(h);
    }
    if (level + 1 < levels) {  // Downsample: conv3x3 stride 2
      auto op = root.sub("input_blocks." + std::to_string(idx++) + ".0.op");
      h = ops::conv2d(s, h, op["weight"], &op["bias"], {2, 1});
      skips.push_back(h);
    }
  }

  h = res_block(s, root.sub("middle_block.0"), h, emb_silu);
  h = spatial_transformer(s, root.sub("middle_block.1"), h, ctx, keys);
  h = res_block(s, root.sub("middle_block.2"), h, emb_silu);

  idx = 0;
  for (int level = levels - 1; level >= 0; --level) {
    for (int r = 0; r <= cfg_.num_res_blocks; ++r, ++idx) {
      auto blk = root.sub("output_blocks." + std::to_string(idx));
      Tensor hsp = skips.back();
      skips.pop_back();
      if (patches.freeu) apply_freeu(s, fft_plans(s), *patches.freeu, cfg_.model_channels, h, hsp);
      h = ops::concat(s, {h, hsp}, 1);  // [B, C + Cskip, H, W]
      h = res_block(s, blk.sub("0"), h, emb_silu);
      int sub = 1;
      if (has_attention(level)) h = spatial_transformer(s, blk.sub(std::to_string(sub++)), h, ctx, keys);
      if (level > 0 && r == cfg_.num_res_blocks) {
        // Upsample: nearest to the next skip's size (2x unless a downsample rounded up), conv3x3.
        const Tensor& next = skips.back();
        bool twice = next.dim(2) == 2 * h.dim(2) && next.dim(3) == 2 * h.dim(3);
        Tensor u = twice ? ops::upsample_nearest2x(s, h)
                         : ops::resize(s, h, next.dim(2), next.dim(3), ops::ResizeMode::kNearest);
        auto up = blk.sub(std::to_string(sub) + ".conv");
        h = ops::conv2d(s, u, up["weight"], &up["bias"], {1, 1});
      }
    }
  }

  h = ops::group_norm(s, h, root["out.0.weight"], root["out.0.bias"], kGroups, kResEps, true);  // out.0 + out.1
  h = ops::conv2d(s, h, root["out.2.weight"], &root["out.2.bias"], {1, 1});                   // [B, out, H, W]
  return h.dtype() == DType::F32 ? h : ops::cast(s, h, DType::F32);
}

}  // namespace vkdream::model
