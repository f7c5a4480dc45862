// SPDX-License-Identifier: Apache-2.0
/**
 * Integer GEMM and convolution on the WebAssembly kernels: packs weights once, quantizes (or takes) the
 * activation codes, runs u8s8 or low-bit GEMM, then the zero-point/bias epilogue that either dequantizes to
 * FP32 or requantizes to output codes (bit-exact with onnxruntime's QLinearMatMul/QLinearConv).
 */
import type { KernelModule } from './wasm-module';
import { columnBytes, packColumns, paddedK } from './packing';

/** Weights packed for an integer kernel: w[n,k] = gain·stored[n,k] − zw[n]. */
export interface IntWeights {
  /** 8 → u8s8 kernel on signed stored bytes; 1/2/4 → low-bit kernel on unsigned stored codes. */
  bits: 1 | 2 | 4 | 8;
  n: number;
  k: number;
  kp: number;
  colBytes: number;
  ptr: number;
  colSumPtr: number;
  zwPtr: number;
  gain: number;
  packedBytes: number;
}

/** Packs n×k stored values (s8 for bits 8, unsigned codes for 1/2/4) with per-column zero points. */
export function packIntWeights(mod: KernelModule, stored: Int32Array, n: number, k: number, bits: 1 | 2 | 4 | 8, zw: Int32Array, gain: number): IntWeights {
  const packed = packColumns(stored, n, k, bits);
  const colSum = new Int32Array(n);
  for (let j = 0; j < n; j++) { let s = 0; for (let i = 0; i < k; i++) s += stored[j * k + i]; colSum[j] = s; }
  const ptr = mod.alloc(packed.length);
  mod.put(ptr, packed);
  const colSumPtr = mod.alloc(n * 4);
  mod.put(colSumPtr, colSum);
  const zwPtr = mod.alloc(n * 4);
  mod.put(zwPtr, zw);
  return { bits, n, k, kp: paddedK(bits, k), colBytes: columnBytes(bits, k), ptr, colSumPtr, zwPtr, gain, packedBytes: packed.length };
}

/** Per-tensor activation quantization as the kernels need it. */
export interface ActQuant {
  scale: number;
  zp: number;
  qmin: number;
  qmax: number;
  /** Codes are int8-style (signed) rather than uint8-style. */
  signed: boolean;
}

/** Dequantize to FP32 with scale[n] = sa·sw[n], or requantize to output codes with mult[n] = sa·sw[n]/sy. */
export type Epilogue =
  | { kind: 'dequant'; scalePtr: number }
  | { kind: 'requant'; multPtr: number; zy: number; qmin: number; qmax: number };

/** Whether the kernel for these weights reads activation bytes as signed. */
export function kernelSignedActs(mod: KernelModule, w: IntWeights): boolean {
  return w.bits !== 8 && mod.k.lowbit_signed_activations() === 1;
}

/** Encoding of activation codes for a kernel: byte = (code & 0xFF) ^ flip, zero point in that encoding. */
export function actEncoding(mod: KernelModule, w: IntWeights, act: ActQuant): { flip: number; za: number; signed: boolean } {
  const ks = kernelSignedActs(mod, w);
  return { flip: act.signed !== ks ? 0x80 : 0, za: act.zp + (act.signed ? 128 : 0) - (ks ? 128 : 0), signed: ks };
}

/** Quantizes rows×k FP32 activations into kernel bytes (rows of `stride` bytes) in scratch; returns the pointer. */
export function quantizeActs(mod: KernelModule, w: IntWeights, x: Float32Array, rows: number, k: number, stride: number, act: ActQuant): number {
  const xp = mod.scratch(x.byteLength);
  mod.put(xp, x);
  const qp = mod.scratch(rows * stride);
  mod.k.quantize_rows(xp, rows, k, stride, qp, act.scale, act.zp, act.qmin, act.qmax, actEncoding(mod, w, act).flip);
  return qp;
}

/** Writes activation codes (rows×k) as kernel bytes with row stride `stride` into scratch. */
export function putActCodes(mod: KernelModule, w: IntWeights, codes: ArrayLike<number>, rows: number, k: number, stride: number, act: ActQuant): number {
  const { flip } = actEncoding(mod, w, act);
  const bytes = new Uint8Array(rows * stride);
  for (let r = 0; r < rows; r++) for (let i = 0; i < k; i++) bytes[r * stride + i] = (codes[r * k + i] & 0xff) ^ flip;
  const p = mod.scratch(bytes.length);
  mod.put(p, bytes);
  return p;
}

/** GEMM of m activation rows (kernel bytes at aPtr, stride w.kp) against weight columns [n0, n0+nc), then the epilogue. */
export function gemmWithEpilogue(mod: KernelModule, w: IntWeights, aPtr: number, m: number, za: number, n0: number, nc: number,
  biasPtr: number, epi: Epilogue, outPtr: number, osm: number, osn: number): void {
  const rowSum = mod.scratch(m * 4);
  mod.k.row_sums(aPtr, m, w.k, w.kp, kernelSignedActs(mod, w) ? 1 : 0, rowSum);
  const c = mod.scratch(m * nc * 4);
  const wp = w.ptr + n0 * w.colBytes;
  if (w.bits === 8) mod.k.gemm_u8s8(aPtr, wp, c, m, nc, w.kp, nc);
  else mod.k.gemm_lowbit(aPtr, wp, c, m, nc, w.kp, nc, w.bits);
  const off = n0 * 4;
  const bias = biasPtr ? biasPtr + off : 0;
  if (epi.kind === 'dequant') {
    mod.k.finish_dequant(c, m, nc, nc, w.k, rowSum, za, w.colSumPtr + off, w.zwPtr + off, w.gain, bias, epi.scalePtr + off, outPtr, osm, osn);
  } else {
    mod.k.finish_requant(c, m, nc, nc, w.k, rowSum, za, w.colSumPtr + off, w.zwPtr + off, w.gain, bias, epi.multPtr + off, epi.zy, epi.qmin, epi.qmax, outPtr, osm, osn);
  }
}

/** Convolution geometry (2-D; 1-D convolutions use h = 1). */
export interface ConvGeometry {
  batch: number; cin: number; h: number; w: number; cout: number; group: number;
  kh: number; kw: number; sh: number; sw: number; padTop: number; padLeft: number; dh: number; dw: number; oh: number; ow: number;
}

/**
 * Integer convolution by im2col + GEMM per image and group. `xBytes` points at the whole input already in
 * kernel encoding (batch·cin·h·w bytes). Output (NCHW, 4-byte elements: f32 or int32 codes) goes to outPtr.
 */
export function convWithEpilogue(mod: KernelModule, wts: IntWeights, xBytes: number, g: ConvGeometry, za: number, biasPtr: number, epi: Epilogue, outPtr: number): void {
  const cpg = g.cin / g.group;
  const opg = g.cout / g.group;
  const pixels = g.oh * g.ow;
  const col = mod.scratch(pixels * wts.kp);
  const padByte = za & 0xff;
  for (let b = 0; b < g.batch; b++) {
    for (let gi = 0; gi < g.group; gi++) {
      const src = xBytes + (b * g.cin + gi * cpg) * g.h * g.w;
      mod.k.im2col(src, cpg, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.dh, g.dw, g.oh, g.ow, wts.kp, padByte, col);
      const out = outPtr + (b * g.cout + gi * opg) * pixels * 4;
      gemmWithEpilogue(mod, wts, col, pixels, za, gi * opg, opg, biasPtr, epi, out, 1, pixels);
    }
  }
}
