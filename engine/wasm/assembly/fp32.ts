// SPDX-License-Identifier: Apache-2.0
// Entry of the FP32 module (GEMM, im2col, Winograd convolution, max pooling). Built by scripts/build-wasm.mjs on its own, plain
// SIMD and relaxed SIMD, importing a shared memory: engine/kernels/sgemm-module.ts runs its functions on this
// thread and on worker threads, each on its own part of a product.
export { sgemm_f32, sgemm_work_floats, im2col_f32 } from './sgemm';
export { winograd_weights, winograd_conv } from './winograd';
export { maxpool2d_f32 } from './pool';

/** First byte the TypeScript allocator may use. */
export function heap_base(): usize {
  return __heap_base;
}
