// Matrix multiplication (batched, broadcast B, transposed B) and torch.nn.Linear, as one tiled GEMM
// kernel (shaders/matmul/gemm.comp) with the bias, scale and residual add fused into its epilogue.
#pragma once
#include "tensor/tensor.h"
#include "vulkan/stream.h"

namespace vkdream::ops {

// out[b] = alpha * a[b] @ op(b[b]) (+ bias[n]) (+ residual); a [B, M, K] or [M, K]; b [B or 1, K, N], or with
// trans_b [B or 1, N, K]; bias [N]; residual same shape as out. Returns [B, M, N] (or [M, N]).
// A 2-D b is treated as [1, K, N] (or [1, N, K]). f16 tensors are stored f16 and accumulated in float.
// Operands bigger than the device's binding range are split along the rows of a (b must fit in one binding).
Tensor matmul(vk::Stream& s, const Tensor& a, const Tensor& b, bool trans_b = false,
              const Tensor* bias = nullptr, const Tensor* residual = nullptr, float alpha = 1.0f);

namespace detail {
// Rows of a per subgroup in gemm_texel.comp: texel_gemm_nt splits rows into dispatches in multiples of this.
constexpr int64_t kTexelGemmRows = 24;
// out [M, N] = a [M, K] @ w [N, K]^T (+ bias[n], or bias[m] when bias_per_row) (+ residual [M, N]) through
// shaders/matmul/gemm_texel.comp, when the device and operands allow it (8-wide subgroups with shuffles, storage
// texel buffers of the dtype, K % 8 == 0, aligned offsets, within the binding/texel limits). Records nothing and
// returns false otherwise. `out` must be allocated [M, N]; with ldo (> N) out and residual are instead flat views
// whose row m starts at m * ldo (a block of columns of a wider matrix). With image_stride, the columns come in
// blocks of ldo, one per image: column n of row m is at (n / ldo) * image_stride + m * ldo + n % ldo of the flat
// out/residual (conv2d's batched small images: [images][M][ldo]); the rows are then never split.
bool texel_gemm_nt(vk::Stream& s, const Tensor& a, const Tensor& w, const Tensor* bias, bool bias_per_row,
                   const Tensor* residual, float alpha, const Tensor& out, int64_t ldo = 0, int64_t image_stride = 0);
// The same for batches: out[z] = alpha * a[z] w[z]^T (+ residual[z]) with a [B, M, K], w [B, N, K], out
// [B, M, N] contiguous, in one dispatch (attention's per-head products). False when the path does not apply.
// With ldo (> N), out (and the residual) are flat views whose row m of batch z starts at (z * M + m) * ldo: a
// block of N columns of [B, M, ldo] (attention's query chunks written in place).
bool texel_gemm_nt_batched(vk::Stream& s, const Tensor& a, const Tensor& w, const Tensor* residual, float alpha,
                           const Tensor& out, int64_t ldo = 0);
// out [M, N] = (w [N, K] @ a [M, K]^T)^T (+ bias[n]) (+ residual [M, N]): texel_gemm_nt with the operands swapped
// and the result transposed back, where that pads the GEMM's 24-row by 32-column blocks less by more than the
// transposes cost (the UNet's 8x8 and 4x4 levels in a cfg batch: 128 and 32 token rows, 1280 columns). An
// undefined tensor (nothing recorded) where it does not pay or the path does not apply.
Tensor texel_gemm_nt_swapped(vk::Stream& s, const Tensor& a, const Tensor& w, const Tensor* bias,
                             const Tensor* residual, float alpha);
// out [M, N/2] = geglu(a [M, K] @ w [N, K]^T (+ bias[n])) where w's rows (and bias) come interleaved in blocks
// of 8 (4 of the value half, then their 4 gates): gemm_texel's GEGLU epilogue (ops::linear_geglu). False, with
// nothing recorded, where the path does not apply (rows are not split: out and a within one binding).
bool texel_gemm_geglu(vk::Stream& s, const Tensor& a, const Tensor& w, const Tensor* bias, const Tensor& out);
// Whether the device can run texel_gemm_nt for this dtype at all (operand checks aside).
bool texel_gemm_available(vk::Stream& s, DType dtype);
}  // namespace detail

// torch.nn.Linear: x [..., K], weight [N, K] (PyTorch layout), bias [N] optional, residual [..., N] optional.
Tensor linear(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias,
              const Tensor* residual = nullptr);
// geglu(linear(x, weight, bias)): x [..., K], weight [2F, K] -> [..., F] (the UNet's feed-forward projection,
// diffusers' GEGLU). On the texel-GEMM path (lavapipe, f32) one product whose epilogue takes the GELU, with the
// weight's rows interleaved once and kept with the model weight; elsewhere the two ops.
Tensor linear_geglu(vk::Stream& s, const Tensor& x, const Tensor& weight, const Tensor* bias);

}  // namespace vkdream::ops
