// Tiled VAE: tiled_scale's tile plan and feathered blending against a CPU reference of
// comfy.utils.tiled_scale_multidim (written here from its Python, in double) run over the same GPU tile
// function; VAEDecodeTiled / VAEEncodeTiled against that reference composed with the untiled GPU decoder /
// encoder on each tile; the nodes' rules; and tiled ~= untiled.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "model/tiny_models.h"
#include "model/vae_tiled.h"
#include "ops/activation.h"
#include "ops/layout.h"
#include "ops/resize.h"
#include "support/compare.h"

namespace vkdream::test {
namespace {

using HostFn = std::function<std::vector<float>(const std::vector<float>& tile, const Shape& shape, Shape& out_shape)>;

// tiled_scale_multidim for 2-D, from ComfyUI's Python: positions, clamped windows, masks and sums in double.
std::vector<double> reference_tiled_scale(const std::vector<float>& x, const Shape& shape, const HostFn& fn, int64_t tile_x,
                                          int64_t tile_y, int64_t overlap, double scale, int64_t out_c) {
  const int64_t B = shape[0], C = shape[1], H = shape[2], W = shape[3];
  auto rnd = [](double v) { return int64_t(std::nearbyint(v)); };
  const int64_t OH = rnd(H * scale), OW = rnd(W * scale);
  std::vector<double> output;
  for (int64_t b = 0; b < B; ++b) {
    auto window = [&](int64_t y0, int64_t x0, int64_t h, int64_t w) {
      std::vector<float> t;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t xx = 0; xx < w; ++xx) t.push_back(x[size_t(((b * C + c) * H + y0 + y) * W + x0 + xx)]);
      return t;
    };
    if (H <= tile_y && W <= tile_x) {
      Shape os;
      auto o = fn(window(0, 0, H, W), {1, C, H, W}, os);
      output.insert(output.end(), o.begin(), o.end());
      continue;
    }
    std::vector<double> out(size_t(out_c * OH * OW), 0.0), div(out.size(), 0.0);
    std::vector<int64_t> pos_y, pos_x;
    auto positions = [&](int64_t n, int64_t tile, std::vector<int64_t>& p) {
      if (n > tile)
        for (int64_t it = 0; it < n - overlap; it += tile - overlap) p.push_back(it);
      else
        p.push_back(0);
    };
    positions(H, tile_y, pos_y);
    positions(W, tile_x, pos_x);
    for (int64_t iy : pos_y)
      for (int64_t ix : pos_x) {
        int64_t py = std::max<int64_t>(0, std::min(H - overlap, iy)), px = std::max<int64_t>(0, std::min(W - overlap, ix));
        int64_t ly = std::min(tile_y, H - py), lx = std::min(tile_x, W - px);
        Shape os;
        auto ps = fn(window(py, px, ly, lx), {1, C, ly, lx}, os);
        const int64_t mh = os[2], mw = os[3];
        std::vector<double> mask(size_t(mh * mw), 1.0);
        const int64_t feather = rnd(overlap * scale);
        if (feather < mh)
          for (int64_t t = 0; t < feather; ++t) {
            double a = double(t + 1) / double(feather);
            for (int64_t xx = 0; xx < mw; ++xx) {
              mask[size_t(t * mw + xx)] *= a;
              mask[size_t((mh - 1 - t) * mw + xx)] *= a;
            }
          }
        if (feather < mw)
          for (int64_t t = 0; t < feather; ++t) {
            double a = double(t + 1) / double(feather);
            for (int64_t y = 0; y < mh; ++y) {
              mask[size_t(y * mw + t)] *= a;
              mask[size_t(y * mw + mw - 1 - t)] *= a;
            }
          }
        const int64_t oy = rnd(py * scale), ox = rnd(px * scale);
        for (int64_t c = 0; c < out_c; ++c)
          for (int64_t y = 0; y < mh; ++y)
            for (int64_t xx = 0; xx < mw; ++xx) {
              size_t o = size_t((c * OH + oy + y) * OW + ox + xx);
              double m = mask[size_t(y * mw + xx)];
              out[o] += double(ps[size_t((c * mh + y) * mw + xx)]) * m;
              div[o] += m;
            }
      }
    for (size_t i = 0; i < out.size(); ++i) output.push_back(out[i] / div[i]);
  }
  return output;
}

// A GPU tile function as a host function (upload the tile, run, download).
HostFn on_host(const model::TileFn& fn) {
  return [fn](const std::vector<float>& tile, const Shape& shape, Shape& out_shape) {
    auto& s = model_stream();
    Tensor out = fn(from_host(s, shape, DType::F32, tile));
    out_shape = out.shape();
    return to_host(s, out);
  };
}

double max_abs(const std::vector<float>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < got.size(); ++i) m = std::max(m, std::abs(double(got[i]) - want[i]));
  return m;
}

TEST(TiledScalePlan, FollowsTiledScale) {
  // 12 x 10 latent, decode's first tiling for tile 8 / overlap 2: (tile_x 4, tile_y 16).
  auto p = model::tiled_scale_plan(12, 10, 4, 16, 2, 8.0);
  EXPECT_FALSE(p.whole);
  EXPECT_EQ(p.out_h, 96);
  EXPECT_EQ(p.out_w, 80);
  EXPECT_EQ(p.feather_y, 16);
  ASSERT_EQ(p.tiles.size(), 4u);  // x: range(0, 8, 2)
  EXPECT_EQ(p.tiles[3].in_x, 6);
  EXPECT_EQ(p.tiles[3].in_w, 4);
  EXPECT_EQ(p.tiles[3].out_x, 48);
  EXPECT_EQ(p.tiles[3].in_h, 12);
  // Positions clamp to size - overlap; the last window is shorter.
  auto q = model::tiled_scale_plan(20, 5, 8, 8, 3, 1.0);
  ASSERT_EQ(q.tiles.size(), 4u);  // y: 0, 5, 10, 15 -> clamped 15 ... x whole axis
  EXPECT_EQ(q.tiles[3].in_y, 15);
  EXPECT_EQ(q.tiles[3].in_h, 5);
  // Encode's downscale: sizes and feather scaled by 1/8, Python's round (half to even).
  auto e = model::tiled_scale_plan(48, 40, 32, 128, 16, 1.0 / 8);
  EXPECT_EQ(e.out_w, 5);
  EXPECT_EQ(e.feather_x, 2);
  EXPECT_EQ(model::tiled_scale_plan(8, 36, 64, 64, 4, 1.0 / 8).out_w, 4);  // round(4.5)
  EXPECT_EQ(model::tiled_scale_plan(8, 44, 64, 64, 12, 1.0 / 8).out_w, 6);  // round(5.5)
  EXPECT_EQ(model::tiled_scale_plan(8, 44, 64, 64, 12, 1.0 / 8).feather_x, 2);  // round(1.5)
  EXPECT_TRUE(model::tiled_scale_plan(8, 8, 8, 8, 2, 8.0).whole);
  EXPECT_THROW(model::tiled_scale_plan(48, 40, 16, 16, 16, 0.125), std::invalid_argument);  // range() step 0
}

struct BlendCase {
  const char* name;
  Shape shape;
  int64_t tile_x, tile_y, overlap;
  double scale;
};

class TiledScaleBlend : public ::testing::TestWithParam<BlendCase> {};

// Cheap tile functions (upsample, affine, area downscale) so odd sizes, batches and feathers run fast.
TEST_P(TiledScaleBlend, MatchesReference) {
  const auto& bc = GetParam();
  auto& s = model_stream();
  model::TileFn fn;
  if (bc.scale == 2.0)
    fn = [&](const Tensor& t) { return ops::upsample_nearest2x(s, t); };
  else if (bc.scale == 1.0)
    fn = [&](const Tensor& t) { return ops::scale(s, t, 2.0f, 0.25f); };
  else
    fn = [&](const Tensor& t) { return ops::resize(s, t, t.dim(2) / 2, t.dim(3) / 2, ops::ResizeMode::kArea); };
  auto x = random_normal(size_t(shape_numel(bc.shape)), 7);
  Tensor got = model::tiled_scale(s, from_host(s, bc.shape, DType::F32, x), fn, bc.tile_x, bc.tile_y, bc.overlap,
                                  bc.scale, bc.shape[1]);
  auto want = reference_tiled_scale(x, bc.shape, on_host(fn), bc.tile_x, bc.tile_y, bc.overlap, bc.scale, bc.shape[1]);
  double err = max_abs(to_host(s, got), want);
  std::printf("[tiled_scale] %s: max |got - reference| = %.3g\n", bc.name, err);
  EXPECT_LE(err, 2e-6) << bc.name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TiledScaleBlend,
    ::testing::Values(BlendCase{"up2_odd", {2, 3, 13, 11}, 5, 4, 2, 2.0},
                      BlendCase{"same_feather_wide", {1, 2, 9, 17}, 6, 6, 3, 1.0},
                      BlendCase{"feather_covers_tile", {1, 1, 7, 7}, 3, 3, 2, 2.0},
                      BlendCase{"down2", {1, 3, 24, 20}, 8, 12, 4, 0.5},
                      BlendCase{"whole", {2, 2, 6, 5}, 8, 8, 2, 2.0}),
    [](const ::testing::TestParamInfo<BlendCase>& i) { return std::string(i.param.name); });

class VAETiled : public ::testing::Test {
 protected:
  const model::VAE& vae() { return *tiny_models(DType::F32).vae; }
};

// Mean |a - b| of two images / latents.
double mean_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += std::abs(double(a[i]) - double(b[i]));
  return d / double(a.size());
}

TEST_F(VAETiled, DecodeMatchesReferenceOfDecoderTiles) {
  auto& s = model_stream();
  const Shape shape{1, 4, 6, 5};
  auto z = random_normal(size_t(shape_numel(shape)), 11);
  Tensor latent = from_host(s, shape, DType::F32, z);
  // VAEDecodeTiled tile_size 64, overlap 32 (the graph golden's inputs) -> overlap 16 -> latent tiles 8, overlap 2:
  // tilings (4, 16) and (16, 4) blend two tiles each, (8, 8) decodes the latent whole.
  Tensor got = model::vae_decode_tiled_node(s, vae(), latent, 64, 32);
  ASSERT_EQ(got.shape(), (Shape{1, 3, 48, 40}));
  auto dec = on_host([&](const Tensor& t) { return vae().decode_raw(s, t); });
  auto a = reference_tiled_scale(z, shape, dec, 4, 16, 2, 8.0, 3);
  auto b = reference_tiled_scale(z, shape, dec, 16, 4, 2, 8.0, 3);
  auto c = reference_tiled_scale(z, shape, dec, 8, 8, 2, 8.0, 3);
  std::vector<double> want(a.size());
  for (size_t i = 0; i < a.size(); ++i) want[i] = std::clamp(((a[i] + b[i] + c[i]) / 3.0 + 1.0) / 2.0, 0.0, 1.0);
  auto g = to_host(s, got);
  double err = max_abs(g, want);
  // Sanity: nearer the untiled decode than an unrelated latent's decode is (the tiny VAE's mid attention sees the
  // whole latent, so tiles do differ).
  auto whole = to_host(s, vae().decode(s, latent));
  auto other = to_host(s, vae().decode(s, from_host(s, shape, DType::F32, random_normal(z.size(), 12))));
  double diff = mean_abs_diff(g, whole), unrelated = mean_abs_diff(other, whole);
  std::printf("[vae_tiled] decode 6x5 tile 8 overlap 2: max |got - reference| = %.3g; mean |tiled - untiled| = %.4g,"
              " unrelated latent %.4g\n", err, diff, unrelated);
  EXPECT_LE(err, 1e-5);
  EXPECT_LT(diff, 0.5 * unrelated);
}

TEST_F(VAETiled, EncodeMatchesReferenceOfEncoderTiles) {
  auto& s = model_stream();
  const Shape shape{1, 3, 50, 43};  // VAEEncodeTiled crops to 48 x 40 (offsets 1, 1)
  auto img = random_uniform(size_t(shape_numel(shape)), 5, 0.0f, 1.0f);
  Tensor got = model::vae_encode_tiled_node(s, vae(), from_host(s, shape, DType::F32, img), 64, 16);
  ASSERT_EQ(got.shape(), (Shape{1, 4, 6, 5}));
  std::vector<float> crop;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 1; y < 49; ++y)
      for (int64_t x = 1; x < 41; ++x) crop.push_back(img[size_t((c * 50 + y) * 43 + x)]);
  const Shape cs{1, 3, 48, 40};
  auto enc = on_host([&](const Tensor& t) { return vae().encode(s, t); });
  auto a = reference_tiled_scale(crop, cs, enc, 64, 64, 16, 0.125, 4);
  auto b = reference_tiled_scale(crop, cs, enc, 128, 32, 16, 0.125, 4);
  auto c = reference_tiled_scale(crop, cs, enc, 32, 128, 16, 0.125, 4);
  std::vector<double> want(a.size());
  for (size_t i = 0; i < a.size(); ++i) want[i] = (a[i] + b[i] + c[i]) / 3.0;
  auto g = to_host(s, got);
  double err = max_abs(g, want);
  auto whole = to_host(s, vae().encode(s, from_host(s, cs, DType::F32, crop)));
  auto other = to_host(s, vae().encode(s, from_host(s, cs, DType::F32, random_uniform(crop.size(), 6, 0.0f, 1.0f))));
  double diff = mean_abs_diff(g, whole), unrelated = mean_abs_diff(other, whole);
  std::printf("[vae_tiled] encode 48x40 tile 64 overlap 16: max |got - reference| = %.3g; mean |tiled - untiled| = "
              "%.4g, unrelated image %.4g\n", err, diff, unrelated);
  EXPECT_LE(err, 1e-5);
  EXPECT_LT(diff, 0.5 * unrelated);
}

}  // namespace
}  // namespace vkdream::test
