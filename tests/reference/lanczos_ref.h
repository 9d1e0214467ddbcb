// CPU reference for ComfyUI's comfy.utils.lanczos: quantize each [0, 1] plane to uint8 as numpy does,
// resize it as Pillow's Image.resize(size, Resampling.LANCZOS) does for an 8-bit image (structure of
// Pillow's Resample.c: precompute_coeffs, normalize_coeffs_8bpc, ImagingResampleInner with its box and
// ybox handling, the 8bpc horizontal/vertical loops; Image.py's copy and tall-image rules), and map back
// with / 255 in f32. Written independently of the op so a shared mistake is unlikely.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace vkdream::test {

struct LanczosRefImage {
  int w = 0, h = 0;
  std::vector<uint8_t> px;  // row-major
  uint8_t at(int x, int y) const { return px[size_t(y) * size_t(w) + size_t(x)]; }
};

namespace lanczos_ref_detail {

constexpr int kBits = 32 - 8 - 2;

inline double sinc(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}
inline double filter(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0; }

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;     // xmin, xmax pairs
  std::vector<double> kk;      // normalized doubles
  std::vector<int32_t> fixed;  // normalize_coeffs_8bpc
};

inline Coeffs precompute(int in_size, float in0, float in1, int out_size) {
  Coeffs c;
  double scale = double(in1 - in0) / out_size, filterscale = scale;
  if (filterscale < 1.0) filterscale = 1.0;
  double support = 3.0 * filterscale;
  c.ksize = int(std::ceil(support)) * 2 + 1;
  c.kk.assign(size_t(out_size) * c.ksize, 0.0);
  c.bounds.assign(size_t(out_size) * 2, 0);
  double inv = 1.0 / filterscale;
  for (int xx = 0; xx < out_size; xx++) {
    double center = in0 + (xx + 0.5) * scale, ww = 0.0;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double* k = &c.kk[size_t(xx) * c.ksize];
    for (int x = 0; x < xmax; x++) {
      double w = filter((x + xmin - center + 0.5) * inv);
      k[x] = w;
      ww += w;
    }
    if (ww != 0.0)
      for (int x = 0; x < xmax; x++) k[x] /= ww;
    c.bounds[size_t(xx) * 2] = xmin;
    c.bounds[size_t(xx) * 2 + 1] = xmax;
  }
  c.fixed.resize(c.kk.size());
  for (size_t i = 0; i < c.kk.size(); i++)
    c.fixed[i] = c.kk[i] < 0 ? int32_t(-0.5 + c.kk[i] * (1 << kBits)) : int32_t(0.5 + c.kk[i] * (1 << kBits));
  return c;
}

inline uint8_t clip8(int32_t ss) {
  int v = ss >> kBits;
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

// ImagingResampleInner for an 8-bit single-band image; box = {x0, y0, x1, y1}.
inline LanczosRefImage resample(const LanczosRefImage& src, int xsize, int ysize, const float box[4]) {
  bool need_h = xsize != src.w || box[0] != 0.0f || box[2] != float(xsize);
  bool need_v = ysize != src.h || box[1] != 0.0f || box[3] != float(ysize);
  Coeffs cv = precompute(src.h, box[1], box[3], ysize);
  int ybox_first = cv.bounds[0];
  int ybox_last = cv.bounds[size_t(ysize) * 2 - 2] + cv.bounds[size_t(ysize) * 2 - 1];
  LanczosRefImage cur = src;
  if (need_h) {
    Coeffs ch = precompute(src.w, box[0], box[2], xsize);
    for (int i = 0; i < ysize; i++) cv.bounds[size_t(i) * 2] -= ybox_first;
    LanczosRefImage tmp{xsize, ybox_last - ybox_first, {}};
    tmp.px.resize(size_t(tmp.w) * tmp.h);
    for (int yy = 0; yy < tmp.h; yy++)
      for (int xx = 0; xx < xsize; xx++) {
        int xmin = ch.bounds[size_t(xx) * 2], xmax = ch.bounds[size_t(xx) * 2 + 1];
        const int32_t* k = &ch.fixed[size_t(xx) * ch.ksize];
        int32_t ss = 1 << (kBits - 1);
        for (int x = 0; x < xmax; x++) ss += int32_t(src.at(x + xmin, yy + ybox_first)) * k[x];
        tmp.px[size_t(yy) * xsize + xx] = clip8(ss);
      }
    cur = std::move(tmp);
  }
  if (need_v) {
    LanczosRefImage out{cur.w, ysize, {}};
    out.px.resize(size_t(out.w) * ysize);
    for (int yy = 0; yy < ysize; yy++) {
      int ymin = cv.bounds[size_t(yy) * 2], ymax = cv.bounds[size_t(yy) * 2 + 1];
      const int32_t* k = &cv.fixed[size_t(yy) * cv.ksize];
      for (int xx = 0; xx < out.w; xx++) {
        int32_t ss = 1 << (kBits - 1);
        for (int y = 0; y < ymax; y++) ss += int32_t(cur.at(xx, y + ymin)) * k[y];
        out.px[size_t(yy) * out.w + xx] = clip8(ss);
      }
    }
    cur = std::move(out);
  }
  return cur;
}

}  // namespace lanczos_ref_detail

// Image.resize((w, h), LANCZOS) on an 8-bit single-band image (reducing_gap None, box None);
// `tall_rule`: Pillow >= 12.2's vertical-first resize of images taller than 100x their width.
inline LanczosRefImage ref_pil_resize_lanczos(const LanczosRefImage& im, int w, int h, bool tall_rule) {
  using lanczos_ref_detail::resample;
  if (im.w == w && im.h == h) return im;  // Image.resize returns a copy
  float box[4] = {0.0f, 0.0f, float(im.w), float(im.h)};
  if (tall_rule && im.h > im.w * 100 && h < im.h) {
    LanczosRefImage mid = resample(im, im.w, h, box);
    float box2[4] = {box[0], 0.0f, box[2], float(h)};
    return resample(mid, w, h, box2);
  }
  return resample(im, w, h, box);
}

// comfy.utils.lanczos on x [N, C, H, W] (values as float), planes resized independently (modes L, RGB).
inline std::vector<float> ref_comfy_lanczos(const std::vector<float>& x, int n, int c, int h, int w, int out_h,
                                            int out_w, bool tall_rule = false) {
  std::vector<float> out;
  out.reserve(size_t(n) * c * out_h * out_w);
  for (int p = 0; p < n * c; p++) {
    LanczosRefImage im{w, h, {}};
    im.px.resize(size_t(w) * h);
    for (size_t i = 0; i < im.px.size(); i++) {
      float v = 255.0f * x[size_t(p) * w * h + i];  // numpy: float32 * python float stays float32
      im.px[i] = std::isnan(v) ? 0 : uint8_t(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
    }
    LanczosRefImage r = ref_pil_resize_lanczos(im, out_w, out_h, tall_rule);
    for (uint8_t v : r.px) out.push_back(float(v) / 255.0f);
  }
  return out;
}

}  // namespace vkdream::test
