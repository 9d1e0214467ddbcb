// Tiled VAE decode and encode for SD1.x, as ComfyUI computes them (comfy/sd.py VAE.decode_tiled_ /
// encode_tiled_, comfy.utils.tiled_scale, nodes VAEDecodeTiled / VAEEncodeTiled):
//  - tiled_scale runs the network on overlapping tiles, per sample, and blends them with feathered masks
//    (ops::tile_accumulate), dividing the weighted sum by the summed masks; a sample that fits one tile is
//    processed whole;
//  - decode averages three tilings, (tile_x/2, tile_y*2) + (tile_x*2, tile_y/2) + (tile_x, tile_y), of the
//    raw decoder output, then maps to [0, 1] with clamp((x + 1) / 2);
//  - encode averages (tile_x, tile_y) + (tile_x*2, tile_y/2) + (tile_x/2, tile_y*2) of the posterior mean.
// Images are NCHW f32 in [0, 1] as VAE takes them; latents are in VAE space. Only the tile loop runs on the CPU.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "model/vae.h"

namespace vkdream::model {

// One tile of tiled_scale: where it is read from the input and where it lands in the output.
struct TilePlacement {
  int64_t in_y = 0, in_x = 0, in_h = 0, in_w = 0;  // input window
  int64_t out_y = 0, out_x = 0;                    // round(pos * scale)
};
struct TilePlan {
  int64_t out_h = 0, out_w = 0;            // round(H * scale), round(W * scale)
  int64_t feather_y = 0, feather_x = 0;    // round(overlap * scale)
  bool whole = false;                      // the input fits one tile: processed without blending
  std::vector<TilePlacement> tiles;        // itertools.product order (rows outer)
};
// The tiles tiled_scale visits for an input of H x W. Throws std::invalid_argument when a tile step
// (tile - overlap) is 0, as Python's range() does; a negative step gives no tiles (ComfyUI then divides 0 by 0).
TilePlan tiled_scale_plan(int64_t h, int64_t w, int64_t tile_x, int64_t tile_y, int64_t overlap, double scale);

// comfy.utils.tiled_scale: samples [B, C, H, W] -> [B, out_channels, round(H*scale), round(W*scale)] f32, with
// fn mapping a [1, C, h, w] tile to [1, out_channels, h*scale, w*scale] (f32).
using TileFn = std::function<Tensor(const Tensor& tile)>;
Tensor tiled_scale(vk::Stream& s, const Tensor& samples, const TileFn& fn, int64_t tile_x, int64_t tile_y,
                   int64_t overlap, double scale, int64_t out_channels);

// VAE.decode_tiled_ (tile sizes and overlap in latent pixels): latent [B, 4, h, w] -> image [B, 3, 8h, 8w] in [0, 1].
Tensor vae_decode_tiled(vk::Stream& s, const VAE& vae, const Tensor& latent, int64_t tile_x = 64, int64_t tile_y = 64,
                        int64_t overlap = 16);
// VAE.encode_tiled_ (in image pixels): image [B, 3, H, W] (multiples of 8) -> latent [B, 4, H/8, W/8].
Tensor vae_encode_tiled(vk::Stream& s, const VAE& vae, const Tensor& image, int64_t tile_x = 512, int64_t tile_y = 512,
                        int64_t overlap = 64);

// The nodes' rules on top (temporal inputs do not apply to SD1.x):
// VAEDecodeTiled: overlap = tile_size / 4 when tile_size < 4 * overlap, then both divided by 8 (latent pixels).
Tensor vae_decode_tiled_node(vk::Stream& s, const VAE& vae, const Tensor& latent, int64_t tile_size, int64_t overlap);
// VAEEncodeTiled: the image center-cropped to multiples of 8 (vae_encode_crop_pixels), tile and overlap in pixels.
Tensor vae_encode_tiled_node(vk::Stream& s, const VAE& vae, const Tensor& image, int64_t tile_size, int64_t overlap);

}  // namespace vkdream::model
