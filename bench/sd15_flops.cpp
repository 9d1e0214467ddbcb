#include "bench/sd15_flops.h"

#include <algorithm>
#include <vector>

namespace vkdream::bench {
namespace {

double conv(int64_t cin, int64_t cout, int64_t k, int64_t out_pixels) { return 2.0 * cin * cout * k * k * out_pixels; }
double linear(int64_t in, int64_t out, int64_t rows) { return 2.0 * in * out * rows; }
// softmax(q k^T) v over n queries and m keys of total width c (all heads together).
double attention(int64_t n, int64_t m, int64_t c) { return 4.0 * n * m * c; }

// ResBlock(cin -> cout) at `px` pixels per sample: two 3x3 convs, the timestep projection, a 1x1 skip.
double unet_res_block(int64_t cin, int64_t cout, int64_t px, int64_t emb, int64_t b) {
  double f = b * (conv(cin, cout, 3, px) + conv(cout, cout, 3, px)) + linear(emb, cout, b);
  if (cin != cout) f += b * conv(cin, cout, 1, px);
  return f;
}

// SpatialTransformer(c) over n tokens: proj_in, depth x (self-attn, cross-attn to m context tokens, GEGLU), proj_out.
double transformer(const model::SD15UNetConfig& u, int64_t c, int64_t n, int64_t m, int64_t b) {
  double per_block = linear(c, 3 * c, n) + attention(n, n, c) + linear(c, c, n)             // attn1
                     + linear(c, c, n) + linear(u.context_dim, 2 * c, m) + attention(n, m, c) +
                     linear(c, c, n)                                                         // attn2
                     + linear(c, 8 * c, n) + linear(4 * c, c, n);                            // ff (GEGLU)
  return b * (2 * linear(c, c, n) + u.transformer_depth * per_block);
}

// VAE ResnetBlock(cin -> cout) at px pixels.
double vae_res_block(int64_t cin, int64_t cout, int64_t px) {
  double f = conv(cin, cout, 3, px) + conv(cout, cout, 3, px);
  if (cin != cout) f += conv(cin, cout, 1, px);
  return f;
}

}  // namespace

double unet_flops(const model::SD15UNetConfig& u, int64_t b, int64_t h, int64_t w, int64_t m) {
  const int levels = int(u.channel_mult.size());
  auto has_attn = [&](int l) {
    return std::find(u.attention_levels.begin(), u.attention_levels.end(), l) != u.attention_levels.end();
  };
  auto px = [&](int l) { return (h >> l) * (w >> l); };
  const int64_t emb = u.time_embed_dim;
  double f = linear(u.model_channels, emb, b) + linear(emb, emb, b);  // time_embed
  f += b * conv(u.in_channels, u.model_channels, 3, px(0));           // input_blocks.0
  std::vector<int64_t> skips{u.model_channels};
  int64_t ch = u.model_channels;
  for (int l = 0; l < levels; ++l) {
    const int64_t out = int64_t(u.model_channels) * u.channel_mult[size_t(l)];
    for (int i = 0; i < u.num_res_blocks; ++i) {
      f += unet_res_block(ch, out, px(l), emb, b);
      ch = out;
      if (has_attn(l)) f += transformer(u, ch, px(l), m, b);
      skips.push_back(ch);
    }
    if (l + 1 < levels) {
      f += b * conv(ch, ch, 3, px(l + 1));  // Downsample: 3x3 stride 2
      skips.push_back(ch);
    }
  }
  const int deepest = levels - 1;  // middle_block: ResBlock, SpatialTransformer, ResBlock
  f += 2 * unet_res_block(ch, ch, px(deepest), emb, b) + transformer(u, ch, px(deepest), m, b);
  for (int l = deepest; l >= 0; --l) {
    const int64_t out = int64_t(u.model_channels) * u.channel_mult[size_t(l)];
    for (int i = 0; i <= u.num_res_blocks; ++i) {
      const int64_t skip = skips.back();
      skips.pop_back();
      f += unet_res_block(ch + skip, out, px(l), emb, b);
      ch = out;
      if (has_attn(l)) f += transformer(u, ch, px(l), m, b);
      if (l > 0 && i == u.num_res_blocks) f += b * conv(ch, ch, 3, px(l - 1));  // Upsample: nearest x2, 3x3
    }
  }
  f += b * conv(u.model_channels, u.out_channels, 3, px(0));  // out
  return f;
}

double clip_flops(const model::SD15CLIPConfig& c, int64_t b, int64_t n) {
  const int64_t d = c.hidden_size;
  double layer = linear(d, 3 * d, n) + attention(n, n, d) + linear(d, d, n) + linear(d, c.intermediate_size, n) +
                 linear(c.intermediate_size, d, n);
  return double(b) * c.num_layers * layer;
}

double vae_decode_flops(const model::SD15VAEConfig& v, int64_t b, int64_t h, int64_t w) {
  const int levels = int(v.ch_mult.size());
  int64_t ch = int64_t(v.ch) * v.ch_mult.back();
  int64_t px = h * w;
  double f = conv(v.embed_dim, v.z_channels, 1, px) + conv(v.z_channels, ch, 3, px);  // post_quant_conv, conv_in
  f += 2 * vae_res_block(ch, ch, px) + 4 * linear(ch, ch, px) + attention(px, px, ch);  // mid: 2 resnets + attn
  for (int l = levels - 1; l >= 0; --l) {
    const int64_t out = int64_t(v.ch) * v.ch_mult[size_t(l)];
    for (int i = 0; i <= v.num_res_blocks; ++i) {
      f += vae_res_block(ch, out, px);
      ch = out;
    }
    if (l > 0) {
      px *= 4;
      f += conv(ch, ch, 3, px);  // Upsample: nearest x2, 3x3
    }
  }
  f += conv(ch, v.out_ch, 3, px);  // conv_out
  return double(b) * f;
}

}  // namespace vkdream::bench
