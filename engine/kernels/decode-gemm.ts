// SPDX-License-Identifier: Apache-2.0
/**
 * Weight-only and decode-table GEMM: codes stay packed in WebAssembly memory; each call decodes a block of
 * columns through a lookup table (int codes: code − zero point; non-uniform formats: their level table)
 * with per-column or per-block scales into an L2-sized FP32 panel, and multiplies FP32 activations by it.
 */
import type { KernelModule } from './wasm-module';
import { columnBytes, packColumns } from './packing';

/** Packed codes plus everything decode_cols needs. */
export interface DecodeWeights {
  bits: 1 | 2 | 4 | 8;
  n: number;
  k: number;
  /** FP32 row stride of activations and decoded panels (k rounded up to 4). */
  kp4: number;
  colBytes: number;
  ptr: number;
  lutPtr: number;
  scalesPtr: number;
  zpsPtr: number;
  /** Scale blocks per column and their size along k. */
  nb: number;
  bs: number;
  packedBytes: number;
}

/** Packs n×k container codes u with lut[u] the decoded level, scales/zps [n][nb] of block size bs along k. */
export function packDecodeWeights(mod: KernelModule, u: ArrayLike<number>, n: number, k: number, bits: 1 | 2 | 4 | 8,
  lut: Float32Array, scales: Float32Array, zps: Float32Array, nb: number, bs: number): DecodeWeights {
  const packed = packColumns(u, n, k, bits);
  const ptr = mod.alloc(packed.length);
  mod.put(ptr, packed);
  const fullLut = new Float32Array(1 << bits);
  fullLut.set(lut.subarray(0, 1 << bits));
  const lutPtr = mod.alloc(fullLut.byteLength);
  mod.put(lutPtr, fullLut);
  const scalesPtr = mod.alloc(scales.byteLength);
  mod.put(scalesPtr, scales);
  const zpsPtr = mod.alloc(zps.byteLength);
  mod.put(zpsPtr, zps);
  return { bits, n, k, kp4: Math.ceil(k / 4) * 4, colBytes: columnBytes(bits, k), ptr, lutPtr, scalesPtr, zpsPtr, nb, bs,
    packedBytes: packed.length + scales.byteLength + (zps.some((z) => z !== 0) ? zps.byteLength : 0) };
}

/** Copies rows×k FP32 activations into scratch with row stride kp4 (zero padded); returns the pointer. */
export function putF32Rows(mod: KernelModule, x: Float32Array, rows: number, k: number, kp4: number): number {
  const p = mod.scratch(rows * kp4 * 4);
  const view = mod.f32(p, rows * kp4);
  if (k === kp4) view.set(x.subarray(0, rows * k));
  else { view.fill(0); for (let r = 0; r < rows; r++) view.set(x.subarray(r * k, r * k + k), r * kp4); }
  return p;
}

/** out[i·ldo + n0 + j] (FP32) for columns [n0, n0+nc) of the decoded weights and m activation rows at xPtr. */
export function decodeGemm(mod: KernelModule, w: DecodeWeights, xPtr: number, m: number, n0: number, nc: number, outPtr: number, ldo: number): void {
  const blockCols = Math.max(1, Math.min(nc, Math.floor(16384 / w.kp4)));
  const panel = mod.scratch(blockCols * w.kp4 * 4);
  for (let j = 0; j < nc; j += blockCols) {
    const cols = Math.min(blockCols, nc - j);
    mod.k.decode_cols(w.ptr, w.colBytes, w.bits, n0 + j, cols, w.k, w.kp4, w.lutPtr, w.scalesPtr, w.zpsPtr, w.nb, w.bs, panel);
    mod.k.gemm_f32(xPtr, m, w.kp4, panel, cols, outPtr, ldo, j);
  }
}
