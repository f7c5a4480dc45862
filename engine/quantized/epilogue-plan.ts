// SPDX-License-Identifier: Apache-2.0
/**
 * Compile-time setup of the integer epilogue of a node: effective per-channel scales, the int32 bias
 * (quantized with scale sa·sw[n], as QLinearConv's bias), and either FP32 dequantization or requantization to
 * the configured output activation codes. Everything is computed once and stored in kernel memory.
 */
import type { KernelModule } from '../kernels/wasm-module';
import type { ActQuant, Epilogue } from '../kernels/int-gemm';
import { requantMultiplier, roundHalfEven } from '../kernels/requant';
import { allocF32 } from '../ops/arena';

export interface IntEpiloguePlan {
  epi: Epilogue;
  biasPtr: number;
  /** Bias that could not be expressed in int32 (added in FP32 after dequantization). */
  fp32Bias?: Float32Array;
  /** Output codes → FP32 when epi is 'requant'. */
  outQuant?: ActQuant;
  /** Output quantization applied in FP32 after an FP32 bias (rare: bias outside int32). */
  postFakeQuant?: ActQuant;
}

/**
 * `colScale[n]` is the weight scale per output column, `alpha` a global factor (Gemm), `bias` the per-column
 * FP32 bias (already multiplied by beta) or undefined.
 */
export function planIntEpilogue(mod: KernelModule, act: ActQuant, colScale: Float32Array, alpha: number,
  bias: Float32Array | undefined, outAct: ActQuant | null): IntEpiloguePlan {
  const n = colScale.length;
  const sw = Float32Array.from(colScale, (s) => Math.fround(s * alpha));
  const deq = Float32Array.from(sw, (s) => Math.fround(act.scale * s));
  let biasPtr = 0;
  let fp32Bias: Float32Array | undefined;
  if (bias) {
    const bq = new Int32Array(n);
    let ok = true;
    for (let j = 0; j < n; j++) {
      const v = roundHalfEven(bias[j] / deq[j]);
      if (!Number.isFinite(v) || Math.abs(v) >= 2 ** 31) { ok = false; break; }
      bq[j] = v;
    }
    if (ok) { biasPtr = mod.alloc(n * 4); mod.put(biasPtr, bq); } else fp32Bias = bias;
  }
  if (outAct && !fp32Bias) {
    const mult = Float32Array.from(sw, (s) => requantMultiplier(act.scale, s, outAct.scale));
    const multPtr = mod.alloc(n * 4);
    mod.put(multPtr, mult);
    return { epi: { kind: 'requant', multPtr, zy: outAct.zp, qmin: outAct.qmin, qmax: outAct.qmax }, biasPtr, outQuant: outAct };
  }
  const scalePtr = mod.alloc(n * 4);
  mod.put(scalePtr, deq);
  return { epi: { kind: 'dequant', scalePtr }, biasPtr, fp32Bias, postFakeQuant: outAct ?? undefined };
}

/**
 * The node's FP32 output copied out of kernel scratch into a buffer from the run's arena (recycled across nodes and
 * runs: a fresh multi-megabyte array per call costs more in page faults than the copy).
 */
export function floatsOut(mod: KernelModule, ptr: number, n: number): Float32Array {
  const out = allocF32(n, false);
  out.set(mod.f32(ptr, n));
  return out;
}

/** Dequantizes requantized output codes: (y − zy)·sy. */
export function codesToFloat(codes: Int32Array, q: ActQuant): Float32Array {
  const out = allocF32(codes.length, false);
  for (let i = 0; i < codes.length; i++) out[i] = Math.fround((codes[i] - q.zp) * q.scale);
  return out;
}
