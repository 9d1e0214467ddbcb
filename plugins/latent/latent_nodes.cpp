// nodes.py's latent nodes. A LATENT is {samples, noise_mask?, batch_index?}; nodes copy what they do not change.
#include <algorithm>
#include <cmath>

#include "latent.h"
#include "ops/layout.h"
#include "upscale.h"

namespace vkdream::packs::latent {

void empty_latent_image(vkd::Context& c) {
  int64_t w = c.get_int("width"), h = c.get_int("height"), b = c.get_int("batch_size");
  NodeStream ns;
  Tensor z = Tensor::empty(ns.s.ctx(), {b, 4, h / 8, w / 8}, DType::F32);
  ns.s.fill_zero(z.ref());
  ns.s.submit();
  set_latent(c, 0, payload::Latent{z, std::nullopt, {}});
}

void latent_upscale(vkd::Context& c) {
  payload::Latent s = latent_in(c, "samples");
  int64_t width = c.get_int("width"), height = c.get_int("height");
  const Tensor& x = s.samples;
  if (width == 0 && height == 0) {
    set_latent(c, 0, std::move(s));
    return;
  }
  if (width == 0) {
    height = std::max<int64_t>(64, height);
    width = std::max<int64_t>(64, py_round(double(x.dim(-1)) * double(height) / double(x.dim(-2))));
  } else if (height == 0) {
    width = std::max<int64_t>(64, width);
    height = std::max<int64_t>(64, py_round(double(x.dim(-2)) * double(width) / double(x.dim(-1))));
  } else {
    width = std::max<int64_t>(64, width);
    height = std::max<int64_t>(64, height);
  }
  NodeStream ns;
  s.samples = common_upscale(ns, x, width / 8, height / 8, c.get_string("upscale_method"), c.get_string("crop"));
  ns.s.submit();
  set_latent(c, 0, std::move(s));
}

void latent_upscale_by(vkd::Context& c) {
  payload::Latent s = latent_in(c, "samples");
  double scale = c.get_float("scale_by");
  int64_t width = py_round(double(s.samples.dim(-1)) * scale), height = py_round(double(s.samples.dim(-2)) * scale);
  NodeStream ns;
  s.samples = common_upscale(ns, s.samples, width, height, c.get_string("upscale_method"), "disabled");
  ns.s.submit();
  set_latent(c, 0, std::move(s));
}

void repeat_latent_batch(vkd::Context& c) {
  payload::Latent s = latent_in(c, "samples");
  int64_t amount = c.get_int("amount");
  NodeStream ns;
  int64_t rows = s.samples.dim(0);
  s.samples = repeat_rows(ns, s.samples, rows * amount);
  if (s.noise_mask && s.noise_mask->dim(0) > 1) {
    Tensor m = *s.noise_mask;
    if (m.dim(0) < rows) m = repeat_rows(ns, m, rows);
    s.noise_mask = repeat_rows(ns, m, m.dim(0) * amount);
  }
  if (!s.batch_index.empty()) {
    auto [lo, hi] = std::minmax_element(s.batch_index.begin(), s.batch_index.end());
    int64_t offset = *hi - *lo + 1;
    std::vector<int64_t> base = s.batch_index;
    for (int64_t i = 1; i < amount; ++i)
      for (int64_t x : base) s.batch_index.push_back(x + i * offset);
  }
  ns.s.submit();
  set_latent(c, 0, std::move(s));
}

void latent_from_batch(vkd::Context& c) {
  const payload::Latent& in = latent_in(c, "samples");
  payload::Latent s = in;
  int64_t n = in.samples.dim(0);
  int64_t index = std::min(n - 1, c.get_int("batch_index"));
  int64_t length = std::min(n - index, c.get_int("length"));
  NodeStream ns;
  s.samples = ops::copy(ns, in.samples.slice0(index, length));
  if (in.noise_mask) {
    Tensor m = *in.noise_mask;
    if (m.dim(0) == 1) {
      s.noise_mask = m;
    } else {
      if (m.dim(0) < n) m = repeat_rows(ns, m, n);
      s.noise_mask = ops::copy(ns, m.slice0(index, length));
    }
  }
  if (in.batch_index.empty()) {
    s.batch_index.clear();
    for (int64_t i = index; i < index + length; ++i) s.batch_index.push_back(i);
  } else {
    auto b = in.batch_index.begin();
    int64_t size = int64_t(in.batch_index.size());
    s.batch_index.assign(b + std::min(index, size), b + std::min(index + length, size));
  }
  ns.s.submit();
  set_latent(c, 0, std::move(s));
}

void set_latent_noise_mask(vkd::Context& c) {
  payload::Latent s = latent_in(c, "samples");
  const Tensor& m = mask_in(c, "mask").mask;
  s.noise_mask = m.reshape({m.numel() / (m.dim(-2) * m.dim(-1)), 1, m.dim(-2), m.dim(-1)});
  set_latent(c, 0, std::move(s));
}

}  // namespace vkdream::packs::latent
