// SPDX-License-Identifier: Apache-2.0
// Entry of the kernel module. Built twice by scripts/build-wasm.mjs (plain SIMD and relaxed SIMD) with an
// imported memory: the TypeScript side (engine/kernels/wasm-module.ts) owns allocation above heap_base().
export { quantize_rows, row_sums, im2col } from './quantize';
export { gemm_panels, pack_s16, panel_col_sums, im2col_panels } from './gemm-int8';
export { unpack_lowbit, gemm_lowbit_relaxed, lowbit_signed_activations } from './gemm-lowbit';
export { finish_dequant, finish_requant } from './epilogue';
export { gemm_lut } from './gemm-lut';
export { depthwise_conv } from './depthwise';
export { wino_int_weights, wino_int_input, wino_int_output, gemm_panels16 } from './winograd-int';
export { decode_cols, gemm_f32 } from './gemm-f32';

/** First byte the TypeScript allocator may use. */
export function heap_base(): usize {
  return __heap_base;
}

/** 1 in the relaxed-SIMD build. */
export function relaxed_build(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
