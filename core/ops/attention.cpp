#include "ops/attention.h"

#include <algorithm>
#include <cmath>

#include "ops/activation.h"
#include "ops/layout.h"
#include "ops/matmul.h"
#include "ops/op_util.h"
#include "ops/softmax.h"

namespace vkdream::ops {

namespace {

// Score rows computed per chunk: the score block [B*H, rows, Lk] (f32) stays under this many bytes,
// so memory grows with the sequence length, never with its square.
uint64_t g_score_budget_bytes = 32ull << 20;

std::string operands(const Tensor& q, const Tensor& k, const Tensor& v, int heads) {
  return "q " + q.str() + ", k " + k.str() + ", v " + v.str() + ", heads " + std::to_string(heads);
}

// [B, L, H*D] -> [B*H, L, D] (heads split out and moved next to the batch), in f32.
Tensor split_heads(vk::Stream& s, const Tensor& x, int64_t heads) {
  const int64_t b = x.dim(0), l = x.dim(1), d = x.dim(2) / heads;
  Tensor f = x.dtype() == DType::F32 ? x : cast(s, x, DType::F32);
  return permute(s, f.reshape({b, l, heads, d}), {0, 2, 1, 3}).reshape({b * heads, l, d});
}

}  // namespace

uint64_t set_attention_score_budget(uint64_t bytes) {
  uint64_t old = g_score_budget_bytes;
  g_score_budget_bytes = std::max<uint64_t>(bytes, 1);
  return old;
}

namespace {
// The products after the head split: qh [BH, Lq, D], kh [BH, Lk, D] f32, and vh [BH, Lk, D] f32 or, on the
// texel-GEMM path, vt = V^T [BH, D, Lk] (made here from vh when not given). Returns [B, Lq, H*D] f32.
Tensor attention_split(vk::Stream& s, Tensor qh, Tensor kh, const Tensor& vh, Tensor vt, int64_t B, int64_t heads,
                       bool causal, float sc, int64_t valid) {
  const int64_t bh = qh.dim(0), Lq = qh.dim(1), D = qh.dim(2), Lk = kh.dim(1), HD = heads * D;
  // P V as an NT product against V^T [BH, D, Lk] on the texel GEMM where the device has it: on lavapipe that path
  // is several times faster than the NN tile GEMM, and the transpose costs one pass over V. Its K (= Lk) must be
  // a multiple of 8, so K and V^T get zero keys up to one (77 text tokens -> 80): the scores of the padding keys
  // are left out of the softmax (probability 0) and their zero values add nothing.
  const bool nt_pv = detail::texel_gemm_available(s, DType::F32);
  // With many keys the texel GEMM takes the product transposed, O^T = V^T P^T: its 24-row blocks then cover the
  // D rows (40: 83% used) where P V's 32-column blocks covered D columns (40 of 64); the transposed result costs
  // one pass over O (a strided transpose), which only long products repay (measured at 4096 keys: P V 40 -> 31 ms
  // per chunk; at 80 keys the pass cost more than the product).
  const bool pv_t = nt_pv && Lk >= 512;
  const int64_t kpad = nt_pv ? (8 - Lk % 8) % 8 : 0;
  if (nt_pv && !vt.defined()) vt = permute(s, vh, {0, 2, 1});
  if (kpad) {
    vt = pad2d(s, vt, 0, 0, 0, kpad);
    kh = pad2d(s, kh, 0, kpad, 0, 0);  // [BH, Lk + kpad, D]
  }

  const uint64_t row_bytes = uint64_t(bh) * uint64_t(Lk + kpad) * 4;
  const uint64_t budget = std::min<uint64_t>(g_score_budget_bytes, s.ctx().caps().max_storage_buffer_range);
  int64_t rows = std::clamp<int64_t>(int64_t(budget / row_bytes), 1, Lq);
  if (rows < Lq && rows >= 8) rows = rows / 8 * 8;  // chunks that start at multiples of 32 bytes
  std::vector<Tensor> parts;
  // The transposed P V writes each chunk's columns of O^T [BH, D, Lq] in place (no concatenation pass) where every
  // chunk starts where a binding may and the texel GEMM takes the first, largest chunk (then it takes the others).
  const uint64_t salign = std::max<uint64_t>(s.ctx().caps().min_storage_offset_alignment, 4);
  bool in_place = pv_t && uint64_t(rows) * 4 % salign == 0;
  Tensor ot = in_place ? Tensor::empty(s.ctx(), {bh, D, Lq}, DType::F32) : Tensor();
  for (int64_t q0 = 0; q0 < Lq; q0 += rows) {
    const int64_t n = std::min(rows, Lq - q0);
    Tensor qc = n == Lq ? qh : slice(s, qh, 1, q0, q0 + n);                      // [BH, n, D]
    Tensor scores = matmul(s, qc, kh, /*trans_b=*/true, nullptr, nullptr, sc);    // [BH, n, Lk + kpad]
    Tensor p = softmax_keys(s, scores, valid, causal, n, q0);                      // [BH, n, Lk + kpad]
    if (in_place) {
      Tensor cols = ot.reshape({bh * D * Lq}).slice0(q0, bh * D * Lq - q0);  // O^T[:, :, q0:] flat
      if (detail::texel_gemm_nt_batched(s, vt, p, nullptr, 1.0f, cols, Lq)) continue;
      VKD_OP_CHECK(q0 == 0, "attention: the texel GEMM refused a query chunk after taking the first");
      in_place = false;
    }
    if (pv_t) parts.push_back(matmul(s, vt, p, /*trans_b=*/true));        // [BH, D, n]
    else if (nt_pv) parts.push_back(matmul(s, p, vt, /*trans_b=*/true));  // [BH, n, D]
    else parts.push_back(matmul(s, p, vh));                                // [BH, n, D]
  }
  Tensor o;
  if (pv_t) {
    o = in_place ? ot : parts.size() == 1 ? parts[0] : concat(s, parts, 2);  // [BH, D, Lq]
    return permute(s, o.reshape({B, heads, D, Lq}), {0, 3, 1, 2}).reshape({B, Lq, HD});
  }
  o = parts.size() == 1 ? parts[0] : concat(s, parts, 1);  // [BH, Lq, D]
  return permute(s, o.reshape({B, heads, Lq, D}), {0, 2, 1, 3}).reshape({B, Lq, HD});
}
}  // namespace

// Attention as chunked matrix products: for a block of query rows, S = scale * Q K^T, P = softmax(S)
// (causal when asked), O = P V, on the shared tiled matmul. Computed in f32 whatever the storage.
Tensor attention(vk::Stream& s, const Tensor& q, const Tensor& k, const Tensor& v, int heads, bool causal,
                 float scale, int64_t keys) {
  const std::string what = operands(q, k, v, heads);
  VKD_OP_CHECK(q.defined() && k.defined() && v.defined(), "attention: undefined operand");
  check_same_dtype("attention", {&q, &k, &v});
  VKD_OP_CHECK(q.dtype() == DType::F32 || q.dtype() == DType::F16, "attention: f32 or f16 tensors only: " + what);
  VKD_OP_CHECK(q.rank() == 3 && k.rank() == 3 && v.rank() == 3, "attention: q, k, v must be [B, L, H*D]: " + what);
  VKD_OP_CHECK(k.shape() == v.shape(), "attention: k and v shapes differ: " + what);
  VKD_OP_CHECK(q.dim(0) == k.dim(0), "attention: batch of q and k differ: " + what);
  VKD_OP_CHECK(q.dim(2) == k.dim(2), "attention: channels of q and k differ: " + what);
  VKD_OP_CHECK(heads > 0 && q.dim(2) % heads == 0, "attention: channels not divisible by heads: " + what);
  const int64_t B = q.dim(0), Lq = q.dim(1), Lk = k.dim(1), HD = q.dim(2), D = HD / heads;
  VKD_OP_CHECK(B > 0 && Lq > 0 && Lk > 0 && D > 0, "attention: empty operand: " + what);
  VKD_OP_CHECK(!(scale < 0.0f) && std::isfinite(scale), "attention: scale must be > 0 (or 0 for 1/sqrt(D)): " + what);
  VKD_OP_CHECK(keys >= 0 && keys <= Lk, "attention: keys must be 0 (all) to Lk = " + std::to_string(Lk) + ", got " +
                                            std::to_string(keys) + ": " + what);
  VKD_OP_CHECK(B * std::max(Lq, Lk) * HD < (int64_t(1) << 32), "attention: tensors too large to index: " + what);
  const float sc = scale > 0.0f ? scale : float(1.0 / std::sqrt(double(D)));
  Tensor o = attention_split(s, split_heads(s, q, heads), split_heads(s, k, heads), split_heads(s, v, heads),
                             Tensor(), B, heads, causal, sc, keys ? keys : Lk);
  return q.dtype() == DType::F32 ? o : cast(s, o, q.dtype());
}

Tensor projected_attention(vk::Stream& s, const Tensor& x, const Tensor& ctx, const Tensor& wq, const Tensor& wk,
                           const Tensor& wv, int heads, int64_t keys) {
  auto unfused = [&] {
    return attention(s, linear(s, x, wq, nullptr), linear(s, ctx, wk, nullptr), linear(s, ctx, wv, nullptr), heads,
                     false, 0.0f, keys);
  };
  if (!x.defined() || !ctx.defined() || !wq.defined() || !wk.defined() || !wv.defined() || x.rank() != 3 ||
      ctx.rank() != 3 || wq.rank() != 2 || wk.rank() != 2 || wv.rank() != 2 || heads <= 0)
    return unfused();  // attention / linear say what is wrong
  const int64_t B = x.dim(0), Lq = x.dim(1), C = x.dim(2), Lk = ctx.dim(1), Cc = ctx.dim(2), HD = wq.dim(0);
  const int64_t D = HD / heads;
  // The split layouts come from the texel GEMM's stores (f32 only); keys already a multiple of 8 (no padding).
  const bool f32 = x.dtype() == DType::F32 && ctx.dtype() == DType::F32 && wq.dtype() == DType::F32 &&
                   wk.dtype() == DType::F32 && wv.dtype() == DType::F32;
  const bool fits = f32 && detail::texel_gemm_available(s, DType::F32) && ctx.dim(0) == B && B > 0 && Lq > 0 &&
                    Lk > 0 && Lk % 8 == 0 && HD % heads == 0 && D > 0 && wq.dim(1) == C && wk.dim(0) == HD && wv.dim(0) == HD && wk.dim(1) == Cc && wv.dim(1) == Cc &&
                    keys >= 0 && keys <= Lk && B * std::max(Lq, Lk) * HD < (int64_t(1) << 32);
  if (!fits) return unfused();
  Tensor qh = Tensor::empty(s.ctx(), {B * heads, Lq, D}, DType::F32);
  Tensor kh = Tensor::empty(s.ctx(), {B * heads, Lk, D}, DType::F32);
  Tensor vt = Tensor::empty(s.ctx(), {B * heads, D, Lk}, DType::F32);
  for (int64_t b = 0; b < B; ++b) {
    // q, k: row t's column h*D + d stored at [h][t][d] of image b's heads (column blocks of D, one per head);
    // V^T: Wv x^T, whose rows h*D + d already are [h][d][t].
    Tensor xb = x.slice0(b, 1).reshape({Lq, C}), cb = ctx.slice0(b, 1).reshape({Lk, Cc});
    Tensor qb = qh.slice0(b * heads, heads), kb = kh.slice0(b * heads, heads);
    Tensor vb = vt.slice0(b * heads, heads).reshape({HD, Lk});
    const bool ok = detail::texel_gemm_nt(s, xb, wq, nullptr, false, nullptr, 1.0f, qb, D, Lq * D) &&
                    detail::texel_gemm_nt(s, cb, wk, nullptr, false, nullptr, 1.0f, kb, D, Lk * D) &&
                    detail::texel_gemm_nt(s, wv, cb, nullptr, false, nullptr, 1.0f, vb);
    if (!ok) return unfused();  // a refused product recorded nothing; the earlier ones are just redone
  }
  const float scale = float(1.0 / std::sqrt(double(D)));
  return attention_split(s, qh, kh, Tensor(), vt, B, heads, false, scale, keys ? keys : Lk);
}

}  // namespace vkdream::ops
