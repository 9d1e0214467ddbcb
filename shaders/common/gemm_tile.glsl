// Shared tiled-GEMM core for matmul and conv2d (implicit GEMM).
// The including shader defines, before including this file:
//   float gemm_load_a(uint batch, uint m, uint k)  // A[m][k], 0 outside [0,M)x[0,K)
//   float gemm_load_b(uint batch, uint k, uint n)  // B[k][n], 0 outside [0,K)x[0,N)
// and then calls gemm_tile(batch, m0, n0, M, N, K) which leaves the invocation's TM x TN outputs in
// gemm_acc[i][j] for rows gemm_row(i) and columns gemm_col(j).
// Spec constants (ids 3..7): BM, BN (workgroup tile), BK (k step), TM, TN (per-invocation tile).
// The workgroup must have (BM / TM) * (BN / TN) invocations (x only).
layout(constant_id = 3) const uint BM = 32;
layout(constant_id = 4) const uint BN = 32;
layout(constant_id = 5) const uint BK = 16;
layout(constant_id = 6) const uint TM = 4;
layout(constant_id = 7) const uint TN = 4;

const uint kMaxTile = 64 * 32;  // largest BM*BK or BK*BN the shared arrays hold
shared vec4 gemm_as[kMaxTile / 4];  // [BK][BM], vec4 along m
shared vec4 gemm_bs[kMaxTile / 4];  // [BK][BN], vec4 along n
float gemm_acc[8][8];  // TM x TN used; TM, TN in {4, 8}

uint gemm_tx() { return gl_LocalInvocationID.x % (BN / TN); }
uint gemm_ty() { return gl_LocalInvocationID.x / (BN / TN); }

void gemm_tile(uint batch, uint m0, uint n0, uint M, uint N, uint K) {
  const uint wg = (BM / TM) * (BN / TN);
  const uint tx = gemm_tx(), ty = gemm_ty();
  const uint lid = gl_LocalInvocationID.x;
  [[unroll]] for (uint i = 0; i < TM; ++i) [[unroll]] for (uint j = 0; j < TN; ++j) gemm_acc[i][j] = 0.0;
  for (uint k0 = 0; k0 < K; k0 += BK) {
    // Stage the A tile transposed ([k][m]) and the B tile ([k][n]) in shared memory.
    for (uint e = lid; e < BM * BK; e += wg) {
      uint mi = e / BK, ki = e % BK;
      gemm_as[(ki * BM + mi) / 4][mi % 4] = gemm_load_a(batch, m0 + mi, k0 + ki);
    }
    for (uint e = lid; e < BK * BN; e += wg) {
      uint ki = e / BN, ni = e % BN;
      gemm_bs[(ki * BN + ni) / 4][ni % 4] = gemm_load_b(batch, k0 + ki, n0 + ni);
    }
    barrier();
    [[unroll]] for (uint kk = 0; kk < BK; ++kk) {
      vec4 av[2], bv[2];
      [[unroll]] for (uint q = 0; q < TM / 4; ++q) av[q] = gemm_as[(kk * BM + ty * TM) / 4 + q];
      [[unroll]] for (uint q = 0; q < TN / 4; ++q) bv[q] = gemm_bs[(kk * BN + tx * TN) / 4 + q];
      [[unroll]] for (uint i = 0; i < TM; ++i)
        [[unroll]] for (uint j = 0; j < TN; ++j) gemm_acc[i][j] = fma(av[i / 4][i % 4], bv[j / 4][j % 4], gemm_acc[i][j]);
    }
    barrier();
  }
}
