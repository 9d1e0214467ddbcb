#include "ops/resize_lanczos.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "ops/op_util.h"

namespace vkdream::ops {

namespace {

// Pillow's PRECISION_BITS for 8-bit images (32 - 8 - 2).
constexpr int kPrecisionBits = 22;
constexpr double kLanczosSupport = 3.0;

double sinc(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}

// Pillow's lanczos_filter: sinc(x) * sinc(x / 3) on [-3, 3).
double lanczos(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0; }

// Identity taps: what Pillow's 1:1 coefficients quantize to (1 << 22 on the pixel itself).
LanczosAxis identity_axis(int64_t n) {
  LanczosAxis a;
  a.ksize = 1;
  for (int64_t i = 0; i < n; ++i) {
    a.first.push_back(int32_t(i));
    a.count.push_back(1);
    a.coeffs.push_back(int32_t(1) << kPrecisionBits);
  }
  return a;
}

// One resampling pass along a plane's rows (horizontal) or columns (vertical).
struct Pass {
  bool vertical = false;
  LanczosAxis axis;
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t row_offset = 0;  // horizontal: first input row read (Pillow's ybox_first)
};

// The passes Pillow's Image.resize(size, LANCZOS) makes on an in_h x in_w image with the full box.
std::vector<Pass> plan_passes(int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                              bool tall_vertical_first) {
  std::vector<Pass> passes;
  if (in_h == out_h && in_w == out_w) {  // Image.resize returns a copy
    passes.push_back({false, identity_axis(out_w), in_h, in_w, in_h, out_w, 0});
    return passes;
  }
  if (tall_vertical_first && in_h > in_w * 100 && out_h < in_h) {
    // Image.resize's rule for very tall images (Pillow >= 12.2): a vertical-only resize to
    // (in_w, out_h), then a horizontal-only one (each a full ImagingResample, so no ybox cropping on either).
    passes.push_back({true, lanczos_axis_coeffs(in_h, out_h), in_h, in_w, out_h, in_w, 0});
    if (out_w != in_w) passes.push_back({false, lanczos_axis_coeffs(in_w, out_w), out_h, in_w, out_h, out_w, 0});
    return passes;
  }
  // ImagingResampleInner: the horizontal pass covers only the rows the vertical pass reads.
  LanczosAxis vert = lanczos_axis_coeffs(in_h, out_h);
  int64_t ybox_first = vert.first.front();
  int64_t ybox_last = int64_t(vert.first.back()) + vert.count.back();
  int64_t rows = in_h;
  if (out_w != in_w) {
    for (auto& f : vert.first) f -= int32_t(ybox_first);
    rows = ybox_last - ybox_first;
    passes.push_back({false, lanczos_axis_coeffs(in_w, out_w), in_h, in_w, rows, out_w, ybox_first});
  }
  if (out_h != in_h) passes.push_back({true, std::move(vert), rows, out_w, out_h, out_w, 0});
  return passes;
}

}  // namespace

LanczosAxis lanczos_axis_coeffs(int64_t in_size, int64_t out_size) {
  // precompute_coeffs with box (in0, in1) = (0, in_size) as floats.
  float in0 = 0.0f, in1 = float(in_size);
  double scale = double(in1 - in0) / double(out_size);
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = kLanczosSupport * filterscale;
  LanczosAxis a;
  a.ksize = int32_t(std::ceil(support)) * 2 + 1;
  a.first.resize(size_t(out_size));
  a.count.resize(size_t(out_size));
  a.coeffs.assign(size_t(out_size) * size_t(a.ksize), 0);
  std::vector<double> k(size_t(a.ksize));
  double inv_filterscale = 1.0 / filterscale;
  for (int64_t xx = 0; xx < out_size; ++xx) {
    double center = in0 + (double(xx) + 0.5) * scale;
    int xmin = int(center - support + 0.5);  // truncation, as Pillow's (int) cast
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = int(in_size);
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      // Pillow's expression order: ((x + xmin) - center + 0.5) * inv_filterscale.
      double w = lanczos((x + xmin - center + 0.5) * inv_filterscale);
      k[size_t(x)] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[size_t(x)] /= ww;
      // normalize_coeffs_8bpc: round half away from zero into fixed point.
      double v = k[size_t(x)] * (1 << kPrecisionBits);
      a.coeffs[size_t(xx) * size_t(a.ksize) + size_t(x)] = k[size_t(x)] < 0 ? int32_t(-0.5 + v) : int32_t(0.5 + v);
    }
    a.first[size_t(xx)] = xmin;
    a.count[size_t(xx)] = xmax;
  }
  return a;
}

Tensor resize_lanczos_u8(vk::Stream& s, const Tensor& x, int64_t out_h, int64_t out_w,
                         bool tall_vertical_first) {
  std::string what = std::string("resize_lanczos_u8: ") + (x.defined() ? x.str() : "undefined") + " to " +
                     std::to_string(out_h) + "x" + std::to_string(out_w);
  VKD_OP_CHECK(x.defined(), what);
  VKD_OP_CHECK(x.rank() == 4, what + ": needs an NCHW tensor");
  VKD_OP_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F16, what + ": needs f32 or f16");
  VKD_OP_CHECK(x.dim(1) == 1 || x.dim(1) == 3,
               what + ": needs 1 or 3 channels (Pillow resizes 2/4-channel images premultiplied)");
  VKD_OP_CHECK(out_h > 0 && out_w > 0, what + ": output size must be positive");
  int64_t in_h = x.dim(2), in_w = x.dim(3);
  VKD_OP_CHECK(in_h > 0 && in_w > 0, what + ": empty input plane");
  // Pillow's sizes are C ints; ours index in 32 bits.
  VKD_OP_CHECK(in_h < 65536 && in_w < 65536 && out_h < 65536 && out_w < 65536, what + ": sides must be < 65536");
  const auto& caps = s.ctx().caps();
  Tensor out = Tensor::empty(s.ctx(), {x.dim(0), x.dim(1), out_h, out_w}, x.dtype());
  for (const Tensor* t : {&x, static_cast<const Tensor*>(&out)})
    VKD_OP_CHECK(t->numel() < (int64_t(1) << 32) && t->bytes() <= caps.max_storage_buffer_range,
                 what + ": a tensor exceeds the device's binding range of " +
                     std::to_string(caps.max_storage_buffer_range) + " bytes");
  uint64_t planes = uint64_t(x.dim(0) * x.dim(1));
  if (planes == 0) return out;

  std::vector<Pass> passes = plan_passes(in_h, in_w, out_h, out_w, tall_vertical_first);
  Tensor cur = x;
  for (size_t i = 0; i < passes.size(); ++i) {
    const Pass& p = passes[i];
    bool first = i == 0, last = i + 1 == passes.size();
    Tensor dst = last ? out : Tensor::empty(s.ctx(), {x.dim(0), x.dim(1), p.out_h, p.out_w}, x.dtype());
    VKD_OP_CHECK(dst.bytes() <= caps.max_storage_buffer_range, what + ": intermediate exceeds the binding range");
    // Coefficient table: first[n], count[n], coeffs[n * ksize].
    std::vector<int32_t> table(p.axis.first);
    table.insert(table.end(), p.axis.count.begin(), p.axis.count.end());
    table.insert(table.end(), p.axis.coeffs.begin(), p.axis.coeffs.end());
    Tensor coeffs = Tensor::empty(s.ctx(), {int64_t(table.size())}, DType::I32);
    s.upload(coeffs.ref(), table.data(), table.size() * 4);
    struct PC {
      uint32_t in_h, in_w, out_h, out_w, row_offset, ksize, plane_offset;
    } pc{uint32_t(p.in_h), uint32_t(p.in_w), uint32_t(p.out_h), uint32_t(p.out_w), uint32_t(p.row_offset),
         uint32_t(p.axis.ksize), 0};
    auto wg = wg_2d(uint64_t(p.out_w));
    auto& pipe = pipeline(s, "resize/lanczos_pass", variant_for(s, x.dtype(), false), 3, wg,
                          {p.vertical ? 1u : 0u, first ? 1u : 0u, last ? 1u : 0u});
    uint64_t gx = (uint64_t(p.out_w) + wg[0] - 1) / wg[0], gy = (uint64_t(p.out_h) + wg[1] - 1) / wg[1];
    VKD_OP_CHECK(gx <= caps.max_workgroup_count[0] && gy <= caps.max_workgroup_count[1],
                 what + ": plane too large for the device's group counts");
    for (uint64_t p0 = 0; p0 < planes; p0 += caps.max_workgroup_count[2]) {
      pc.plane_offset = uint32_t(p0);
      s.dispatch(pipe, {cur.ref(), coeffs.ref()}, {dst.ref()}, pc, uint32_t(gx), uint32_t(gy),
                 uint32_t(std::min<uint64_t>(caps.max_workgroup_count[2], planes - p0)));
    }
    cur = dst;
  }
  return out;
}

}  // namespace vkdream::ops
