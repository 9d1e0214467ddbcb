// Multi-head scaled-dot-product attention, flash-attention style: every invocation owns one query
// row of one head, keeps its scaled query and its output accumulator (D floats each) in registers,
// and streams the keys/values through shared memory in tiles of BK keys, with an online softmax
// (running max and sum, rescaled every 8 keys). No score matrix is ever stored.
// Layout: q [B, Lq, H*D], k and v [B, Lk, H*D], out [B, Lq, H*D]; head h uses channels [h*D, (h+1)*D).
// Bindings: 0 q (STORE_T), 1 k (STORE_T), 2 v (STORE_T), 3 out (STORE_T).
// Push constants: lq, lk, hd (= H*D, the row stride), scale_log2e (scale * log2(e)), causal (query i
//   sees keys j <= i when non-zero).
// Spec constants: 0..2 workgroup size (x = query rows per workgroup); 3 D (head dim); 4 DP (D rounded up
//   to a multiple of 8); 5 BK (keys per shared-memory tile, a multiple of 8; 2*BK*DP floats of shared).
// Dispatch: (ceil(Lq / wg_x), H, B).
// All arithmetic and accumulation is float in every variant. The loops over D have constant trip
// counts once specialised and are unrolled, so the per-invocation arrays live in registers (or the
// stack); key/value reads are uniform across the workgroup (broadcasts on SIMD CPUs). The hot loops
// sit outside any divergent branch.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "types.glsl"
VKD_LOCAL_SIZE;

layout(constant_id = 3) const uint D = 40;
layout(constant_id = 4) const uint DP = 40;
layout(constant_id = 5) const uint BK = 64;

layout(std430, binding = 0) readonly buffer Q { STORE_T q[]; };
layout(std430, binding = 1) readonly buffer K { STORE_T k[]; };
layout(std430, binding = 2) readonly buffer V { STORE_T v[]; };
layout(std430, binding = 3) writeonly buffer O { STORE_T o[]; };

layout(push_constant) uniform PC {
  uint lq;
  uint lk;
  uint hd;
  float scale_log2e;
  uint causal;
} pc;

const uint TILE = BK * DP;
shared float ks[TILE];
shared float vs[TILE];

// Below every real score; the running max starts at -1e30 so masked keys always weigh exp2(-huge) = 0.
const float kMasked = -3.0e38;

void main() {
  const uint WG = gl_WorkGroupSize.x;
  const uint LOADS = (TILE + WG - 1u) / WG;
  const uint lid = gl_LocalInvocationID.x;
  const uint row = gl_WorkGroupID.x * WG + lid;
  const uint h = gl_WorkGroupID.y;
  const uint b = gl_WorkGroupID.z;
  // Rows past the end compute a copy of the last row and store nothing.
  const uint qrow = min(row, pc.lq - 1u);
  const uint qbase = (b * pc.lq + qrow) * pc.hd + h * D;

  float qr[DP];
  float acc[DP];
  [[unroll]] for (uint d = 0u; d < D; ++d) qr[d] = float(q[qbase + d]) * pc.scale_log2e;
  [[unroll]] for (uint d = D; d < DP; ++d) qr[d] = 0.0;
  [[unroll]] for (uint d = 0u; d < DP; ++d) acc[d] = 0.0;
  float m = -1.0e30;
  float l = 0.0;

  // Keys this workgroup needs (uniform) and keys this row may see.
  const uint last_row = min(gl_WorkGroupID.x * WG + WG - 1u, pc.lq - 1u);
  const uint kend = pc.causal != 0u ? min(pc.lk, last_row + 1u) : pc.lk;
  const uint row_end = pc.causal != 0u ? min(kend, qrow + 1u) : kend;
  const uint kvbase = b * pc.lk * pc.hd + h * D;

  for (uint kt = 0u; kt < kend; kt += BK) {
    const uint nk = min(BK, kend - kt);
    barrier();
    // Cooperative tile load, zero padded past the last key and past D (no branches: indices clamp).
    [[unroll]] for (uint it = 0u; it < LOADS; ++it) {
      const uint e = min(it * WG + lid, TILE - 1u);
      const uint j = e / DP;
      const uint d = e - j * DP;
      const bool ok = (j < nk) && (d < D);
      const uint src = kvbase + (kt + min(j, nk - 1u)) * pc.hd + min(d, D - 1u);
      const float kx = float(k[src]);
      const float vx = float(v[src]);
      ks[e] = ok ? kx : 0.0;
      vs[e] = ok ? vx : 0.0;
    }
    barrier();

    for (uint jb = 0u; jb < nk; jb += 8u) {
      // Scores of 8 keys against this row (already scaled by scale*log2(e)).
      float sc[8];
      [[unroll]] for (uint t = 0u; t < 8u; ++t) sc[t] = 0.0;
      [[unroll]] for (uint d = 0u; d < DP; ++d) {
        const float qd = qr[d];
        [[unroll]] for (uint t = 0u; t < 8u; ++t) sc[t] += qd * ks[(jb + t) * DP + d];
      }
      float mb = m;
      [[unroll]] for (uint t = 0u; t < 8u; ++t) {
        sc[t] = (kt + jb + t < row_end) ? sc[t] : kMasked;
        mb = max(mb, sc[t]);
      }
      const float alpha = exp2(m - mb);
      float psum = 0.0;
      [[unroll]] for (uint t = 0u; t < 8u; ++t) {
        sc[t] = exp2(sc[t] - mb);
        psum += sc[t];
      }
      l = l * alpha + psum;
      m = mb;
      [[unroll]] for (uint d = 0u; d < DP; ++d) {
        float a = acc[d] * alpha;
        [[unroll]] for (uint t = 0u; t < 8u; ++t) a += sc[t] * vs[(jb + t) * DP + d];
        acc[d] = a;
      }
    }
  }

  const float inv = 1.0 / l;
  if (row < pc.lq) {
    [[unroll]] for (uint d = 0u; d < D; ++d) o[qbase + d] = STORE_T(acc[d] * inv);
  }
}
