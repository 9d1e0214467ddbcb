#include "model/unet_patches.h"

#include <stdexcept>
#include <string>

#include "ops/fourier_filter.h"
#include "ops/freeu.h"

namespace vkdream::model {

void apply_freeu(vk::Stream& s, ops::FFTPlans& plans, const FreeUPatch& p, int model_channels, Tensor& h,
                 Tensor& hsp) {
  if (p.version != 1 && p.version != 2)
    throw std::invalid_argument("FreeU: version must be 1 or 2, got " + std::to_string(p.version));
  // ComfyUI's scale_dict {model_channels * 4: (b1, s1), model_channels * 2: (b2, s2)}, keyed on h.shape[1].
  double b, sc;
  if (h.dim(1) == int64_t(model_channels) * 4) {
    b = p.b1;
    sc = p.s1;
  } else if (h.dim(1) == int64_t(model_channels) * 2) {
    b = p.b2;
    sc = p.s2;
  } else {
    return;
  }
  const int64_t half = h.dim(1) / 2;
  if (p.version == 2) {
    Tensor hidden_mean = ops::minmax_normalize(s, ops::channel_mean(s, h));  // [B, 1, H, W]
    h = ops::scale_channels(s, h, half, &hidden_mean, b - 1.0, 1.0);
  } else {
    h = ops::scale_channels(s, h, half, nullptr, 0.0, b);
  }
  hsp = ops::fourier_filter(s, plans, hsp, /*threshold=*/1, sc);
}

}  // namespace vkdream::model
