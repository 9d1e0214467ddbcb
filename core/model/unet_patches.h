// Patches a MODEL carries into the UNet's forward pass (ComfyUI's ModelPatcher model_options), applied
// where ComfyUI applies them. The default, no patch, is the plain UNet.
#pragma once
#include <optional>

#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {
class FFTPlans;
}

namespace vkdream::model {

// FreeU / FreeU_V2 (comfy_extras/nodes_freelunch.py): an output_block_patch. Before each output block's
// concat, when h has model_channels*4 channels (b1, s1) or model_channels*2 (b2, s2):
//   v1: h[:, :C/2] *= b
//   v2: h[:, :C/2] *= (b - 1) * minmax_normalize(mean_c(h)) + 1  (per sample; NaN when the map is flat,
//       e.g. the 1x1 bottom level of a <= 64 px image, exactly as ComfyUI)
// and the skip hsp is Fourier-filtered (threshold 1, scale s): its frequencies {-1, 0} per axis times s.
struct FreeUPatch {
  int version = 1;  // 1: FreeU, 2: FreeU_V2
  double b1 = 1.1, b2 = 1.2, s1 = 0.9, s2 = 0.2;
};

struct UNetPatches {
  std::optional<FreeUPatch> freeu;
};

// The FreeU output_block_patch on (h [B, C, H, W], hsp [B, Cskip, H, W]): replaces both with their
// patched values when C is model_channels * 4 or * 2, leaves them otherwise.
void apply_freeu(vk::Stream& s, ops::FFTPlans& plans, const FreeUPatch& p, int model_channels, Tensor& h,
                 Tensor& hsp);

}  // namespace vkdream::model
