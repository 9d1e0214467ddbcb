// tile_accumulate against a naive CPU reference of tiled_scale's feathered mask and sums (f32 only: the
// sums are f32 tensors in ComfyUI whatever the model's precision), including repeated accumulation into
// overlapping places, a feather wider than half the tile, an unfeathered axis, and the SD1.5 decode tile size.
#include <gtest/gtest.h>

#include <sstream>

#include "ops/op_util.h"
#include "ops/tile_blend.h"
#include "support/compare.h"
#include "support/gpu_env.h"

namespace vkdream::test {
namespace {

struct TileCase {
  int64_t C, H, W, h, w, y0, x0, fy, fx;
};

// mask[y, x] = prod over rows then columns of (t + 1) / feather for t = distance to either edge < feather.
std::vector<double> reference_mask(int64_t h, int64_t w, int64_t fy, int64_t fx) {
  std::vector<double> m(size_t(h * w), 1.0);
  auto axis = [](int64_t n, int64_t f, std::vector<double>& a) {
    a.assign(size_t(n), 1.0);
    if (f >= n) return;
    for (int64_t t = 0; t < f; ++t) {
      a[size_t(t)] *= double(t + 1) / double(f);
      a[size_t(n - 1 - t)] *= double(t + 1) / double(f);
    }
  };
  std::vector<double> ay, ax;
  axis(h, fy, ay);
  axis(w, fx, ax);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) m[size_t(y * w + x)] = ay[size_t(y)] * ax[size_t(x)];
  return m;
}

class TileAccumulate : public ::testing::TestWithParam<TileCase> {};

TEST_P(TileAccumulate, MatchesReference) {
  const auto c = GetParam();
  vk::Stream s(context());
  std::ostringstream params;
  params << "tile_accumulate C=" << c.C << " HxW=" << c.H << "x" << c.W << " tile " << c.h << "x" << c.w << " at ("
         << c.y0 << "," << c.x0 << ") feather " << c.fy << "," << c.fx;
  auto acc0 = random_normal(size_t(c.C * c.H * c.W), 1);
  auto w0 = random_uniform(size_t(c.H * c.W), 2, 0.0f, 2.0f);
  auto tile = random_normal(size_t(c.C * c.h * c.w), 3);
  Tensor acc = from_host(s, {1, c.C, c.H, c.W}, DType::F32, acc0);
  Tensor weight = from_host(s, {1, 1, c.H, c.W}, DType::F32, w0);
  Tensor t = from_host(s, {1, c.C, c.h, c.w}, DType::F32, tile);
  // Twice, as overlapping tiles of one tiling add into the same places.
  ops::tile_accumulate(s, acc, weight, t, c.y0, c.x0, c.fy, c.fx);
  ops::tile_accumulate(s, acc, weight, t, c.y0, c.x0, c.fy, c.fx);
  auto mask = reference_mask(c.h, c.w, c.fy, c.fx);
  std::vector<double> want_acc(acc0.begin(), acc0.end()), want_w(w0.begin(), w0.end());
  for (int64_t y = 0; y < c.h; ++y)
    for (int64_t x = 0; x < c.w; ++x) {
      double m = mask[size_t(y * c.w + x)];
      want_w[size_t((c.y0 + y) * c.W + c.x0 + x)] += 2 * m;
      for (int64_t ch = 0; ch < c.C; ++ch)
        want_acc[size_t((ch * c.H + c.y0 + y) * c.W + c.x0 + x)] += 2 * m * tile[size_t((ch * c.h + y) * c.w + x)];
    }
  EXPECT_TRUE(close_nmse(to_host(s, acc), want_acc, 1e-12, params.str() + " (sums)"));
  EXPECT_TRUE(close_nmse(to_host(s, weight), want_w, 1e-12, params.str() + " (weights)"));
}

INSTANTIATE_TEST_SUITE_P(Cases, TileAccumulate,
                         ::testing::Values(TileCase{1, 5, 6, 5, 6, 0, 0, 2, 2},     // the whole output
                                           TileCase{3, 13, 11, 6, 4, 7, 7, 4, 3},   // feather > half the tile
                                           TileCase{2, 9, 17, 9, 5, 0, 12, 9, 1},   // rows unfeathered (f >= h)
                                           TileCase{4, 40, 33, 17, 9, 3, 20, 0, 0},  // no feather
                                           TileCase{3, 96, 80, 64, 32, 32, 48, 16, 16}));  // SD1.5 decode tile

TEST(TileAccumulate, RejectsTilesOutside) {
  vk::Stream s(context());
  Tensor acc = from_host(s, {1, 2, 4, 4}, DType::F32, std::vector<float>(32, 0.0f));
  Tensor w = from_host(s, {1, 1, 4, 4}, DType::F32, std::vector<float>(16, 0.0f));
  Tensor t = from_host(s, {1, 2, 3, 3}, DType::F32, std::vector<float>(18, 1.0f));
  EXPECT_THROW(ops::tile_accumulate(s, acc, w, t, 2, 0, 1, 1), ops::OpError);
  Tensor t1 = from_host(s, {1, 1, 3, 3}, DType::F32, std::vector<float>(9, 1.0f));
  EXPECT_THROW(ops::tile_accumulate(s, acc, w, t1, 0, 0, 1, 1), ops::OpError);
}

}  // namespace
}  // namespace vkdream::test
