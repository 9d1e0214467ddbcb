#include "ops/matmul.h"

#include <algorithm>

#include "ops/activation.h"
#include "ops/kept_weights.h"
#include "ops/layout.h"
#include "ops/op_util.h"

namespace vkdream::ops {

namespace {
// Workgroup tile (see shaders/common/gemm_tile.glsl): BM x BN outputs, BK-deep k steps, 4x4 per invocation.
constexpr uint32_t kBM = 32, kBN = 32, kBK = 16, kTM = 4, kTN = 4;
constexpr uint32_t kWG = (kBM / kTM) * (kBN / kTN);

struct GemmPC {
  uint32_t M, N, K;
  uint32_t sa, sb, so;
  float alpha;
  uint32_t flags;
};

struct TexelGemmPC {
  uint32_t M, N, K4;
  float alpha;
  uint32_t sa4 = 0, sw4 = 0, so = 0;  // batch strides (z): a and w in texels, out/residual in values
  uint32_t ldo = 0;                   // row stride of out/residual
};
constexpr uint32_t kVec4Rows = 8;   // gemm_texel flag: rows of out/residual start at multiples of 4 values
constexpr uint32_t kWideRows = 16;  // ... and at multiples of 8, N too: stored 8 at a time (wide_store.glsl)
constexpr uint32_t kImageCols = 32; // columns in blocks of ldo per image, so values apart (texel_gemm_nt)
constexpr uint32_t kGeglu = 64;     // GEGLU of interleaved column halves (texel_gemm_geglu)
constexpr uint32_t kTexelWG = 64;   // at most 8 subgroups of 8 (fewer for short M: texel_wg)
constexpr uint32_t kTexelBM = uint32_t(detail::kTexelGemmRows);  // rows per subgroup (3 per lane)
constexpr uint32_t kTexelSgN = 32;  // columns per workgroup (every subgroup's: 4 per lane)

// Whether shaders/matmul/gemm_texel.comp can run this NT product: 8-wide subgroups with shuffles, both
// operands as storage texel buffers (format supported, aligned, within maxTexelBufferElements), K % 8 == 0;
// its f32 variant stores through u64vec4 (shaderInt64).
bool texel_device(vk::Stream& s, DType dt) {
  const auto& caps = s.ctx().caps();
  if (caps.subgroup_size != 8 || !caps.subgroup_shuffle) return false;
  if (dt == DType::I32) return false;
  return dt == DType::F32 ? caps.storage_texel_rgba32f && caps.int64
                          : caps.storage_texel_rgba16f && caps.fp16_storage;
}

// kWideRows where out (and the residual) can be stored 8 values at a time: every row start a multiple of 8
// values from a binding that starts at one.
uint32_t wide_rows_flag(const Tensor& out, const Tensor* residual, int64_t N, int64_t ldo, int64_t batch_stride) {
  const uint64_t unit = 8 * dtype_size(out.dtype());
  if (N % 8 || ldo % 8 || batch_stride % 8 || out.ref().offset % unit) return 0;
  if (residual && residual->ref().offset % unit) return 0;
  return kWideRows;
}

bool texel_path(vk::Stream& s, DType dt, int64_t K, const Tensor& a, const Tensor& b) {
  const auto& caps = s.ctx().caps();
  if (!texel_device(s, dt)) return false;
  if (K % 8 != 0) return false;
  const uint64_t align = std::max<uint64_t>(caps.min_texel_buffer_offset_alignment, 1);
  if (a.ref().offset % align || b.ref().offset % align) return false;
  if (uint64_t(b.numel() / 4) > caps.max_texel_buffer_elements) return false;
  return true;
}

std::string operands(const Tensor& a, const Tensor& b, const Tensor* bias, const Tensor* res) {
  std::string m = "a " + a.str() + ", b " + b.str();
  if (bias && bias->defined()) m += ", bias " + bias->str();
  if (res && res->defined()) m += ", residual " + res->str();
  return m;
}
}  // namespace

Tensor matmul(vk::Stream& s, const Tensor& a, const Tensor& b, bool trans_b, const Tensor* bias,
              const Tensor* residual, float alpha) {
  const char* op = "matmul";
  auto fail = [&](const std::string& why) { throw OpError(std::string(op) + ": " + why + " (" + operands(a, b, bias, residual) + ")"); };
  if (!a.defined() || !b.defined()) fail("undefined operand");
  if (bias && !bias->defined()) bias = nullptr;
  if (residual && !residual->defined()) residual = nullptr;
  check_same_dtype(op, {&a, &b, bias, residual});
  if (a.dtype() == DType::I32) fail("integer tensors are not supported");
  if (a.rank() != 2 && a.rank() != 3) fail("a must be [M, K] or [B, M, K]");
  if (b.rank() != 2 && b.rank() != 3) fail("b must be 2-D or 3-D");
  const int64_t batch = a.rank() == 3 ? a.dim(0) : 1;
  const int64_t M = a.dim(-2), K = a.dim(-1);
  const int64_t b_batch = b.rank() == 3 ? b.dim(0) : 1;
  const int64_t bK = trans_b ? b.dim(-1) : b.dim(-2);
  const int64_t N = trans_b ? b.dim(-2) : b.dim(-1);
  if (bK != K) fail("inner dimensions differ (K " + std::to_string(K) + " vs " + std::to_string(bK) + ")");
  if (b_batch != 1 && b_batch != batch) fail("batch of b must be 1 or match a");
  if (b.rank() == 3 && a.rank() == 2 && b_batch != 1) fail("3-D b with batch > 1 needs a 3-D a");
  Shape out_shape = a.rank() == 3 ? Shape{batch, M, N} : Shape{M, N};
  if (bias && !(bias->rank() == 1 && bias->dim(0) == N)) fail("bias must be [N] = [" + std::to_string(N) + "]");
  if (residual && residual->shape() != out_shape) fail("residual must have the output shape " + shape_str(out_shape));
  const int64_t lim = int64_t(UINT32_MAX);
  if (M * K >= lim || K * N >= lim || M * N >= lim || batch > 65535) fail("too large for 32-bit indexing");

  Tensor out = Tensor::empty(s.ctx(), out_shape, a.dtype());
  if (out.numel() == 0) return out;

  const auto& caps = s.ctx().caps();
  const uint64_t range = caps.max_storage_buffer_range;
  const size_t es = dtype_size(a.dtype());
  if (b.bytes() > range) fail("b exceeds the device's binding range");
  const Tensor* dummy = &a;

  // With a shared b, the batches of a are just more rows: fold them so chunks can split anywhere.
  const bool fold = b_batch == 1;
  if (trans_b && fold) {
    Tensor a2 = a.reshape({batch * M, K});
    Tensor r2 = residual ? residual->reshape({batch * M, N}) : Tensor();
    Tensor b2 = b.rank() == 3 ? b.reshape({N, K}) : b;
    if (Tensor t = detail::texel_gemm_nt_swapped(s, a2, b2, bias, residual ? &r2 : nullptr, alpha); t.defined())
      return t.reshape(out_shape);
    if (detail::texel_gemm_nt(s, a2, b2, bias, false, residual ? &r2 : nullptr, alpha, out.reshape({batch * M, N})))
      return out;
  }
  if (trans_b && !fold && !bias && a.rank() == 3 && detail::texel_gemm_nt_batched(s, a, b, residual, alpha, out))
    return out;
  auto& p = pipeline(s, "matmul/gemm", variant_for(s, a.dtype(), false), 5, {kWG, 1, 1},
                     {kBM, kBN, kBK, kTM, kTN, trans_b ? 1u : 0u});
  const int64_t rows_total = fold ? batch * M : M;
  const int64_t groups = fold ? 1 : batch;
  Tensor a2 = a.reshape({groups, rows_total, K});
  Tensor o2 = out.reshape({groups, rows_total, N});
  Tensor r2 = residual ? residual->reshape({groups, rows_total, N}) : Tensor();
  // Rows per dispatch so that a, out and residual each fit one binding (a multiple of the tile).
  int64_t per_row = int64_t(std::max(K, N) * es) * groups;
  int64_t max_rows = std::max<int64_t>(1, int64_t(range) / std::max<int64_t>(per_row, 1));
  if (max_rows < rows_total) {
    max_rows = max_rows / kBM * kBM;
    if (max_rows == 0 || !fold) fail("one batch of a or out exceeds the device's binding range");
  }
  const int64_t max_gy = std::min<int64_t>(caps.max_workgroup_count[1], 65535);
  max_rows = std::min<int64_t>(max_rows, max_gy * kBM);
  for (int64_t r0 = 0; r0 < rows_total; r0 += max_rows) {
    int64_t rows = std::min(max_rows, rows_total - r0);
    Tensor ac = rows == rows_total ? a2 : a2.reshape({rows_total, K}).slice0(r0, rows);
    Tensor oc = rows == rows_total ? o2 : o2.reshape({rows_total, N}).slice0(r0, rows);
    Tensor rc = !residual ? Tensor() : rows == rows_total ? r2 : r2.reshape({rows_total, N}).slice0(r0, rows);
    GemmPC pc{};
    pc.M = uint32_t(rows);
    pc.N = uint32_t(N);
    pc.K = uint32_t(K);
    pc.sa = uint32_t(rows * K);
    pc.sb = b_batch == 1 ? 0u : uint32_t(K * N);
    pc.so = uint32_t(rows * N);
    pc.alpha = alpha;
    pc.flags = (bias ? 1u : 0u) | (residual ? 2u : 0u);
    s.dispatch(p, {ac.ref(), b.ref(), (bias ? bias : dummy)->ref(), residual ? rc.ref() : dummy->ref()}, {oc.ref()},
               pc, ceil_div(uint64_t(N), kBN), ceil_div(uint64_t(rows), kBM), uint32_t(groups));
  }
  return out;
}

namespace detail {
bool texel_gemm_available(vk::Stream& s, DType dtype) { return texel_device(s, dtype); }

namespace {
// Invocations per workgroup for M rows: subgroups of 24 rows over the same 32 columns, no more than M needs.
// The subgroups of a workgroup run one after another on one core (llvmpipe): sharing w's columns, they find
// them in cache (measured with 8-row subgroups over 24 columns, ~60 KB of w at K = 640, where subgroups spread
// over N streamed ~500 KB per workgroup: matmul 22.7% -> 24.8% of the measured peak).
// The most subgroups (of kTexelWG / 8) whose workgroups pad M's blocks of 24 rows by at most 1/16 (CLIP's 154
// rows: 7 blocks, one workgroup of 7 subgroups).
uint32_t texel_wg(int64_t M) {
  const int64_t blocks = (M + kTexelBM - 1) / kTexelBM;
  for (int64_t sg = kTexelWG / 8; sg > 1; --sg)
    if ((blocks + sg - 1) / sg * sg * 16 <= blocks * 17) return uint32_t(8 * sg);
  return 8;
}

// `flags`: gemm_texel's FLAGS (a specialization constant: one pipeline per epilogue variant).
const vk::Pipeline& texel_pipeline(vk::Stream& s, DType dt, uint32_t wg, uint32_t flags) {
  const VkFormat fmt = texel4_format(dt);
  return pipeline(s, "matmul/gemm_texel", variant_for(s, dt, false), 5, {wg, 1, 1}, {flags}, {fmt, fmt});
}
}  // namespace

bool texel_gemm_nt_batched(vk::Stream& s, const Tensor& a, const Tensor& w, const Tensor* residual, float alpha,
                           const Tensor& out, int64_t ldo) {
  const int64_t batch = a.dim(0), M = a.dim(1), K = a.dim(2), N = w.dim(1);
  if (ldo == 0) ldo = N;
  if (ldo < N || uint64_t(batch * M * ldo) > UINT32_MAX) return false;
  if (out.ref().offset % std::max<uint64_t>(s.ctx().caps().min_storage_offset_alignment, 4)) return false;
  if (!texel_path(s, a.dtype(), K, a, w)) return false;
  const auto& caps = s.ctx().caps();
  // One dispatch for every batch: each operand in one binding, the grid within the device's limits.
  const uint64_t range = caps.max_storage_buffer_range;
  if (a.bytes() > range || w.bytes() > range || out.bytes() > range) return false;
  if (uint64_t(a.numel() / 4) > caps.max_texel_buffer_elements) return false;
  const uint32_t wg = texel_wg(M);
  const uint64_t gx = ceil_div(uint64_t(N), kTexelSgN), gy = ceil_div(uint64_t(M), kTexelBM * (wg / 8));
  if (gx > caps.max_workgroup_count[0] || gy > std::min<uint32_t>(caps.max_workgroup_count[1], 65535) ||
      uint64_t(batch) > caps.max_workgroup_count[2])
    return false;
  TexelGemmPC pc{uint32_t(M), uint32_t(N), uint32_t(K / 4), alpha};
  pc.ldo = uint32_t(ldo);
  pc.sa4 = uint32_t(M * K / 4);
  pc.sw4 = uint32_t(N * K / 4);
  pc.so = uint32_t(M * ldo);
  uint32_t flags = residual ? 2u : 0u;
  const uint64_t unit4 = 4 * dtype_size(out.dtype());
  const bool aligned4 = out.ref().offset % unit4 == 0 && (!residual || residual->ref().offset % unit4 == 0);
  if (N % 4 == 0 && ldo % 4 == 0 && aligned4) flags |= kVec4Rows;
  flags |= wide_rows_flag(out, residual, N, ldo, int64_t(pc.so));
  s.dispatch(texel_pipeline(s, a.dtype(), wg, flags), {a.ref(), w.ref(), a.ref(), residual ? residual->ref() : a.ref()},
             {out.ref()}, pc, uint32_t(gx), uint32_t(gy), uint32_t(batch));
  return true;
}

namespace {
// Padded output area of the texel GEMM for M rows (blocks of kTexelBM) by N columns (blocks of kTexelSgN).
double texel_area(int64_t M, int64_t N) {
  return double((M + kTexelBM - 1) / kTexelBM * kTexelBM) * double((N + kTexelSgN - 1) / kTexelSgN * kTexelSgN);
}

// Whether texel_gemm_nt_swapped takes an [M, K] x [N, K]^T product: each layout pass (a transpose, `passes` of
// them) costs about 20 / K of the product per value: 8 bytes at ~5 GB/s against 2K flops at ~25 GFLOP/s on
// lavapipe. Swap where the smaller padding repays them by 2% more.
bool swap_pays(int64_t M, int64_t N, int64_t K, int passes) {
  return texel_area(N, M) * (1.0 + passes * 20.0 / double(K) + 0.02) < texel_area(M, N);
}
}  // namespace

Tensor texel_gemm_nt_swapped(vk::Stream& s, const Tensor& a, const Tensor& w, const Tensor* bias,
                             const Tensor* residual, float alpha) {
  const int64_t M = a.dim(0), K = a.dim(1), N = w.dim(0);
  if (!texel_device(s, a.dtype()) || M % 8 || N % 8 || !swap_pays(M, N, K, residual ? 2 : 1)) return Tensor();
  Tensor rt = residual ? permute(s, *residual, {1, 0}) : Tensor();  // [N, M]
  Tensor t = Tensor::empty(s.ctx(), {N, M}, a.dtype());
  if (!texel_gemm_nt(s, w, a, bias, true, residual ? &rt : nullptr, alpha, t)) return Tensor();
  return permute(s, t, {1, 0});
}

bool texel_gemm_nt(vk::Stream& s, const Tensor& a, const Tensor& w, const Tensor* bias, bool bias_per_row,
                   const Tensor* residual, float alpha, const Tensor& out, int64_t ldo, int64_t image_stride) {
  const int64_t rows_total = a.dim(0), K = a.dim(1), N = w.dim(0);
  if (ldo == 0) ldo = N;
  if (!texel_path(s, a.dtype(), K, a, w)) return false;
  const auto& caps = s.ctx().caps();
  const size_t es = dtype_size(a.dtype());
  // Rows per dispatch: a's texels and out/residual within the binding and texel limits, y within the grid.
  int64_t max_rows = int64_t(caps.max_storage_buffer_range) / int64_t(std::max(K, N) * es);
  max_rows = std::min<int64_t>(max_rows, int64_t(caps.max_texel_buffer_elements) / (K / 4));
  max_rows = std::min<int64_t>(max_rows, int64_t(std::min<uint32_t>(caps.max_workgroup_count[1], 65535)) * kTexelBM);
  max_rows = max_rows / kTexelBM * kTexelBM;
  const uint32_t wg = texel_wg(std::max<int64_t>(1, std::min(rows_total, max_rows)));
  const uint64_t gx = ceil_div(uint64_t(N), kTexelSgN);
  if (max_rows <= 0 || gx > caps.max_workgroup_count[0]) return false;
  // A strided out is one flat view: not split by rows.
  if ((ldo != N || image_stride) && max_rows < rows_total) return false;
  if (image_stride && (N % ldo || uint64_t(image_stride) > UINT32_MAX)) return false;
  const uint32_t bias_flag = bias ? (bias_per_row ? 4u : 1u) : 0u;
  for (int64_t r0 = 0; r0 < rows_total; r0 += max_rows) {
    int64_t rows = std::min(max_rows, rows_total - r0);
    Tensor ac = rows == rows_total ? a : a.slice0(r0, rows);
    Tensor oc = rows == rows_total ? out : out.slice0(r0, rows);
    Tensor rc = !residual ? Tensor() : rows == rows_total ? *residual : residual->slice0(r0, rows);
    // A bias per row of a chunk starts at the chunk's first row.
    Tensor bc = !bias ? Tensor() : (bias_per_row && rows != rows_total) ? bias->slice0(r0, rows) : *bias;
    TexelGemmPC pc{uint32_t(rows), uint32_t(N), uint32_t(K / 4), alpha};
    pc.ldo = uint32_t(ldo);
    pc.so = uint32_t(image_stride);
    uint32_t flags = bias_flag | (residual ? 2u : 0u) | (image_stride ? kImageCols : 0u);
    if (ldo % 4 == 0 && image_stride % 4 == 0) flags |= kVec4Rows;
    flags |= wide_rows_flag(oc, residual ? &rc : nullptr, N, ldo, image_stride);
    s.dispatch(texel_pipeline(s, a.dtype(), wg, flags), {ac.ref(), w.ref(), (bias ? bc : a).ref(), residual ? rc.ref() : a.ref()}, {oc.ref()}, pc,
               uint32_t(gx), ceil_div(uint64_t(rows), kTexelBM * (wg / 8)), 1);
  }
  return true;
}
bool texel_gemm_geglu(vk::Stream& s, const Tensor& a, const Tensor& w, const Tensor* bias, const Tensor& out) {
  const int64_t M = a.dim(0), K = a.dim(1), N = w.dim(0);
  if (!texel_path(s, a.dtype(), K, a, w) || N % 8) return false;
  const auto& caps = s.ctx().caps();
  const size_t es = dtype_size(a.dtype());
  if (a.bytes() > caps.max_storage_buffer_range || out.bytes() > caps.max_storage_buffer_range) return false;
  if (uint64_t(a.numel() / 4) > caps.max_texel_buffer_elements || out.ref().offset % (4 * es)) return false;
  if (bias && bias->ref().offset % (4 * es)) return false;
  const uint32_t wg = texel_wg(M);
  const uint64_t gx = ceil_div(uint64_t(N), kTexelSgN), gy = ceil_div(uint64_t(M), kTexelBM * (wg / 8));
  if (gx > caps.max_workgroup_count[0] || gy > std::min<uint32_t>(caps.max_workgroup_count[1], 65535)) return false;
  TexelGemmPC pc{uint32_t(M), uint32_t(N), uint32_t(K / 4), 1.0f};
  pc.ldo = uint32_t(N / 2);
  const uint32_t flags = kGeglu | kVec4Rows | (bias ? 1u : 0u);
  s.dispatch(texel_pipeline(s, a.dtype(), wg, flags), {a.ref(), w.ref(), (bias ? *bias : a).ref(), a.ref()},
             {out.ref()}, pc, uint32_t(gx), uint32_t(gy), 1);
  return true;
}
}  // namespace detail

Tensor linear(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias, const Tensor* residual) {
  if (!x.defined() || !weight.defined() || x.rank() < 1 || weight.rank() != 2 || x.dim(-1) != weight.dim(1))
    throw OpError("linear: x [..., K] and weight [N, K] do not match (x " + (x.defined() ? x.str() : "undefined") +
                  ", weight " + (weight.defined() ? weight.str() : "undefined") + ")");
  const int64_t K = x.dim(-1), N = weight.dim(0);
  const int64_t rows = K ? x.numel() / K : 0;
  Shape out_shape = x.shape();
  out_shape.back() = N;
  Tensor r2;
  if (residual && residual->defined()) {
    if (residual->shape() != out_shape)
      throw OpError("linear: residual " + residual->str() + " must have the output shape " + shape_str(out_shape) +
                    " (x " + x.str() + ", weight " + weight.str() + ")");
    r2 = residual->reshape({rows, N});
  }
  Tensor out = matmul(s, x.reshape({rows, K}), weight, true, bias, r2.defined() ? &r2 : nullptr, 1.0f);
  return out.reshape(out_shape);
}

Tensor linear_geglu(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias) {
  auto unfused = [&] { return geglu(s, linear(s, x, weight, bias)); };
  if (bias && !bias->defined()) bias = nullptr;
  if (!x.defined() || !weight.defined() || x.rank() < 1 || weight.rank() != 2 || x.dim(-1) != weight.dim(1) ||
      (bias && (bias->rank() != 1 || bias->dim(0) != weight.dim(0))))
    return unfused();  // linear says what is wrong
  const int64_t K = x.dim(-1), N = weight.dim(0), F = N / 2, rows = K ? x.numel() / K : 0;
  // The epilogue pairs lanes (4 value columns, then their 4 gates) and stores 4-wide; an unswapped product only
  // (the short row counts that swap keep the two passes).
  const bool f32 = x.dtype() == DType::F32 && weight.dtype() == DType::F32 && (!bias || bias->dtype() == DType::F32);
  const bool fits = f32 && rows > 0 && N % 8 == 0 && texel_path(s, DType::F32, K, x, weight) &&
                    !detail::swap_pays(rows, N, K, 1);
  if (!fits) return unfused();
  // The rows of weight (and bias) interleaved in blocks of 8: value features 4j..4j+3, then their gates. The
  // weight's copy is kept with it (the bias, which LoRA may patch alone, is interleaved per call: 2F values).
  auto interleaved_rows = [&](vk::Stream& on) {
    return permute(on, weight.reshape({2, F / 4, 4, K}), {1, 0, 2, 3}).reshape({N, K});
  };
  Tensor tmp;  // the permuted rows before their copy into the weights pool: alive until that stream's submit
  auto interleave = [&](vk::Stream& ws, vk::MemoryPool* pool) {
    tmp = interleaved_rows(ws);
    auto made = std::make_shared<std::vector<Tensor>>();
    made->push_back(Tensor::empty(ws.ctx(), {N, K}, DType::F32, pool));
    ws.copy(tmp.ref(), made->back().ref(), size_t(tmp.bytes()));
    return made;
  };
  std::shared_ptr<std::vector<Tensor>> kept =
      detail::kept_derived(s.ctx(), weight, "geglu_rows", uint64_t(weight.bytes()), interleave);
  const Tensor wi = kept ? (*kept)[0] : interleaved_rows(s);
  Tensor bi = bias ? permute(s, bias->reshape({2, F / 4, 4}), {1, 0, 2}).reshape({N}) : Tensor();
  Shape out_shape = x.shape();
  out_shape.back() = F;
  Tensor out = Tensor::empty(s.ctx(), out_shape, DType::F32);
  if (!detail::texel_gemm_geglu(s, x.reshape({rows, K}), wi, bias ? &bi : nullptr, out.reshape({rows, F})))
    return unfused();
  return out;
}

}  // namespace vkdream::ops
