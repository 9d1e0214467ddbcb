#include "model/vae_tiled.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "ops/elementwise.h"
#include "ops/layout.h"
#include "ops/tile_blend.h"

namespace vkdream::model {
namespace {

// Python's round() on a float: half to even.
int64_t py_round(double x) { return int64_t(std::nearbyint(x)); }

// The start positions of one axis: range(0, n - overlap, tile - overlap) when n > tile, else [0].
std::vector<int64_t> axis_starts(int64_t n, int64_t tile, int64_t overlap) {
  if (n <= tile) return {0};
  const int64_t stop = n - overlap, step = tile - overlap;
  if (step == 0) throw std::invalid_argument("tiled_scale: tile size equals the overlap (range() step 0)");
  std::vector<int64_t> out;
  for (int64_t it = 0; step > 0 ? it < stop : it > stop; it += step) out.push_back(it);
  return out;
}

Tensor zeros(vk::Stream& s, const Shape& shape) {
  Tensor t = Tensor::empty(s.ctx(), shape, DType::F32);
  s.fill_zero(t.ref());
  return t;
}

// (a + b + c) / 3.0 in f32, in that order.
Tensor mean3(vk::Stream& s, const Tensor& a, const Tensor& b, const Tensor& c) {
  Tensor three = from_host(s, {1}, DType::F32, {3.0f});
  return ops::div(s, ops::add(s, ops::add(s, a, b), c), three);
}

}  // namespace

TilePlan tiled_scale_plan(int64_t h, int64_t w, int64_t tile_x, int64_t tile_y, int64_t overlap, double scale) {
  TilePlan p;
  p.out_h = py_round(double(h) * scale);
  p.out_w = py_round(double(w) * scale);
  p.feather_y = p.feather_x = py_round(double(overlap) * scale);
  p.whole = h <= tile_y && w <= tile_x;
  if (p.whole) return p;
  auto ys = axis_starts(h, tile_y, overlap), xs = axis_starts(w, tile_x, overlap);
  for (int64_t iy : ys)
    for (int64_t ix : xs) {
      TilePlacement t;
      t.in_y = std::max<int64_t>(0, std::min(h - overlap, iy));
      t.in_x = std::max<int64_t>(0, std::min(w - overlap, ix));
      t.in_h = std::min(tile_y, h - t.in_y);
      t.in_w = std::min(tile_x, w - t.in_x);
      t.out_y = py_round(double(t.in_y) * scale);
      t.out_x = py_round(double(t.in_x) * scale);
      p.tiles.push_back(t);
    }
  return p;
}

Tensor tiled_scale(vk::Stream& s, const Tensor& samples, const TileFn& fn, int64_t tile_x, int64_t tile_y,
                   int64_t overlap, double scale, int64_t out_channels) {
  if (samples.rank() != 4) throw std::invalid_argument("tiled_scale expects [B, C, H, W], got " + samples.str());
  const TilePlan plan = tiled_scale_plan(samples.dim(2), samples.dim(3), tile_x, tile_y, overlap, scale);
  std::vector<Tensor> outs;
  for (int64_t b = 0; b < samples.dim(0); ++b) {
    Tensor sample = samples.slice0(b, 1);
    if (plan.whole) {
      outs.push_back(fn(sample));
      continue;
    }
    Tensor acc = zeros(s, {1, out_channels, plan.out_h, plan.out_w});
    Tensor weight = zeros(s, {1, 1, plan.out_h, plan.out_w});
    for (const auto& t : plan.tiles) {
      Tensor in = ops::slice(s, ops::slice(s, sample, 2, t.in_y, t.in_y + t.in_h), 3, t.in_x, t.in_x + t.in_w);
      Tensor ps = fn(in);  // [1, out_channels, in_h * scale, in_w * scale]
      ops::tile_accumulate(s, acc, weight, ps, t.out_y, t.out_x, plan.feather_y, plan.feather_x);
      s.submit();  // one tile's network at a time in flight
    }
    outs.push_back(ops::div(s, acc, weight));
  }
  return outs.size() == 1 ? outs[0] : ops::concat(s, outs, 0);
}

Tensor vae_decode_tiled(vk::Stream& s, const VAE& vae, const Tensor& latent, int64_t tile_x, int64_t tile_y,
                        int64_t overlap) {
  const double up = double(vae.downscale());
  const int64_t ch = vae.config().out_ch;
  TileFn decode = [&](const Tensor& t) { return vae.decode_raw(s, t); };
  Tensor a = tiled_scale(s, latent, decode, tile_x / 2, tile_y * 2, overlap, up, ch);
  Tensor b = tiled_scale(s, latent, decode, tile_x * 2, tile_y / 2, overlap, up, ch);
  Tensor c = tiled_scale(s, latent, decode, tile_x, tile_y, overlap, up, ch);
  return ops::clamp01_affine(s, mean3(s, a, b, c), 0.5f, 0.5f);  // process_output: clamp((x + 1) / 2, 0, 1)
}

Tensor vae_encode_tiled(vk::Stream& s, const VAE& vae, const Tensor& image, int64_t tile_x, int64_t tile_y,
                        int64_t overlap) {
  const double down = 1.0 / double(vae.downscale());
  const int64_t ch = vae.config().embed_dim;
  TileFn encode = [&](const Tensor& t) { return vae.encode(s, t); };
  Tensor a = tiled_scale(s, image, encode, tile_x, tile_y, overlap, down, ch);
  Tensor b = tiled_scale(s, image, encode, tile_x * 2, tile_y / 2, overlap, down, ch);
  Tensor c = tiled_scale(s, image, encode, tile_x / 2, tile_y * 2, overlap, down, ch);
  return mean3(s, a, b, c);
}

Tensor vae_decode_tiled_node(vk::Stream& s, const VAE& vae, const Tensor& latent, int64_t tile_size, int64_t overlap) {
  if (tile_size < overlap * 4) overlap = tile_size / 4;
  const int64_t f = vae.downscale();
  return vae_decode_tiled(s, vae, latent, tile_size / f, tile_size / f, overlap / f);
}

Tensor vae_encode_tiled_node(vk::Stream& s, const VAE& vae, const Tensor& image, int64_t tile_size, int64_t overlap) {
  if (image.rank() != 4) throw std::invalid_argument("VAEEncodeTiled expects [B, 3, H, W], got " + image.str());
  const int64_t f = vae.downscale();
  Tensor img = image;
  for (int d = 2; d < 4; ++d) {
    const int64_t n = img.dim(d), keep = n / f * f;
    if (keep != n) img = ops::slice(s, img, d, (n % f) / 2, (n % f) / 2 + keep);
  }
  return vae_encode_tiled(s, vae, img, tile_size, tile_size, overlap);
}

}  // namespace vkdream::model
