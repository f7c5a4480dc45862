// SPDX-License-Identifier: Apache-2.0
/**
 * Scalar references for every WebAssembly kernel (engine/wasm/assembly), written for clarity, with the
 * same layouts and the same arithmetic (f32 rounding via Math.fround, ties-to-even). The tests require the
 * SIMD kernels to equal these bit for bit.
 */
import { roundHalfEven } from './requant';
import { lowbitPanelK, unpackColumns, unpackLowbitPanels } from './packing';

const f = Math.fround;

/** quantize_rows: bytes (q & 0xFF) ^ flip with q = clamp(nearest(x/scale) + zp); rows padded to kp with 0. */
export function quantizeRowsRef(x: Float32Array, rows: number, k: number, kp: number, scale: number, zp: number, qmin: number, qmax: number, flip: number): Uint8Array {
  const out = new Uint8Array(rows * kp);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < k; i++) {
      let v = f(roundHalfEven(f(x[r * k + i] / f(scale))) + zp);
      v = Math.min(Math.max(v, qmin), qmax);
      out[r * kp + i] = (Math.trunc(v) & 0xff) ^ flip;
    }
  }
  return out;
}

/** row_sums: Σ of each row's first k bytes, read signed or unsigned. */
export function rowSumsRef(a: Uint8Array, rows: number, k: number, stride: number, signed: boolean): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < k; i++) { const b = a[r * stride + i]; s += signed && b > 127 ? b - 256 : b; }
    out[r] = s;
  }
  return out;
}

/** Geometry of one im2col call (one image, one group). */
export interface Im2colGeometry {
  c: number; h: number; w: number; kh: number; kw: number; sh: number; sw: number;
  padTop: number; padLeft: number; dh: number; dw: number; oh: number; ow: number;
}

/** im2col: oh·ow rows of kp bytes, (channel, ky, kx) order, padByte outside the image, zeros beyond k. */
export function im2colRef(src: Uint8Array, g: Im2colGeometry, kp: number, padByte: number): Uint8Array {
  const out = new Uint8Array(g.oh * g.ow * kp);
  for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++) {
    let j = (oy * g.ow + ox) * kp;
    for (let ch = 0; ch < g.c; ch++) for (let ky = 0; ky < g.kh; ky++) for (let kx = 0; kx < g.kw; kx++) {
      const iy = oy * g.sh - g.padTop + ky * g.dh;
      const ix = ox * g.sw - g.padLeft + kx * g.dw;
      out[j++] = iy < 0 || iy >= g.h || ix < 0 || ix >= g.w ? padByte : src[(ch * g.h + iy) * g.w + ix];
    }
  }
  return out;
}

/** pack_s16: row quads ([r0 k0, r0 k1, r1 k0, … r3 k1] per k pair) then the m mod 4 tail rows, as int16. */
export function packS16Ref(rows: Int16Array, m: number, kp: number): Int16Array {
  const out = new Int16Array(m * kp);
  const quads = m >> 2;
  for (let r = 0; r < quads; r++) for (let j = 0; j < 4; j++) for (let t = 0; t < kp; t++) {
    out[r * kp * 4 + (t >> 1) * 8 + j * 2 + (t & 1)] = rows[(4 * r + j) * kp + t];
  }
  for (let i = quads * 4; i < m; i++) for (let t = 0; t < kp; t++) out[i * kp + t] = rows[i * kp + t];
  return out;
}

/** gemm_panels: C[i·(8·np) + j] = Σ_k S[i,k]·P[k,j]; S given as plain int16 rows of kp, P 8-column panels of k pairs. */
export function gemmPanelsRef(s: Int16Array, m: number, kp: number, panels: Uint8Array, np: number, signedP: boolean): Int32Array {
  const ldc = np * 8;
  const c = new Int32Array(m * ldc);
  const pv = (k: number, j: number) => { const b = panels[(j >> 3) * kp * 8 + (k >> 1) * 16 + (j & 7) * 2 + (k & 1)]; return signedP && b > 127 ? b - 256 : b; };
  for (let i = 0; i < m; i++) for (let j = 0; j < ldc; j++) {
    let acc = 0;
    for (let k = 0; k < kp; k++) acc += s[i * kp + k] * pv(k, j);
    c[i * ldc + j] = acc;
  }
  return c;
}

/** panel_col_sums: Σ_k P[k,j] for every panel column (8·np values). */
export function panelColSumsRef(panels: Uint8Array, np: number, kp: number, signed: boolean): Int32Array {
  const out = new Int32Array(np * 8);
  for (let j = 0; j < np * 8; j++) for (let k = 0; k < kp; k++) {
    const b = panels[(j >> 3) * kp * 8 + (k >> 1) * 16 + (j & 7) * 2 + (k & 1)];
    out[j] += signed && b > 127 ? b - 256 : b;
  }
  return out;
}

/** im2col_panels: column j = output pixel, row k = (channel, ky, kx); panel layout of gemm_panels. */
export function im2colPanelsRef(src: Uint8Array, g: Im2colGeometry, kp: number, padByte: number): Uint8Array {
  const rows = im2colRef(src, g, kp, padByte);
  const pixels = g.oh * g.ow;
  const np = Math.ceil(pixels / 8);
  const out = new Uint8Array(np * kp * 8);
  for (let j = 0; j < pixels; j++) for (let k = 0; k < kp; k++) out[(j >> 3) * kp * 8 + (k >> 1) * 16 + (j & 7) * 2 + (k & 1)] = rows[j * kp + k];
  return out;
}

/** Low-bit GEMM: C[i·n + j] = Σ_k A[i,k]·u[k,j]; activation bytes signed (relaxed build) or unsigned (plain). */
export function gemmLowbitRef(a: Uint8Array, packed: Uint8Array, m: number, n: number, k: number, bits: 1 | 2 | 4, signedActs: boolean): Int32Array {
  const kp = lowbitPanelK(k);
  const u = unpackLowbitPanels(packed, n, k, bits);
  const c = new Int32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let q = 0; q < k; q++) {
      const b = a[i * kp + q];
      s += (signedActs && b > 127 ? b - 256 : b) * u[j * k + q];
    }
    c[i * n + j] = s;
  }
  return c;
}

/** Per-call epilogue parameters shared by finish_dequant and finish_requant. */
export interface EpilogueRef {
  k: number; actSum: Int32Array; za: number; wSum: Int32Array; zw: Int32Array; gain: number; bias?: Int32Array;
  /** true: C rows are activations and columns channels; false: rows are channels. */
  actRows: boolean;
}

function correctedAcc(c: Int32Array, i: number, j: number, ldc: number, e: EpilogueRef): number {
  const ch = e.actRows ? j : i, a = e.actRows ? i : j;
  let acc = (Math.imul(e.gain, (c[i * ldc + j] - Math.imul(e.za, e.wSum[ch])) | 0) - Math.imul(e.zw[ch], (e.actSum[a] - Math.imul(e.k, e.za)) | 0)) | 0;
  if (e.bias) acc = (acc + e.bias[ch]) | 0;
  return acc;
}

/** finish_dequant: f32(acc)·scale[channel] into an m × n row-major array (C row stride ldc). */
export function finishDequantRef(c: Int32Array, m: number, n: number, ldc: number, e: EpilogueRef, scale: Float32Array): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = f(f(correctedAcc(c, i, j, ldc, e)) * scale[e.actRows ? j : i]);
  return out;
}

/** finish_requant: onnxruntime-style float requantization into output codes. */
export function finishRequantRef(c: Int32Array, m: number, n: number, ldc: number, e: EpilogueRef, mult: Float32Array, zy: number, qmin: number, qmax: number): Int32Array {
  const out = new Int32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let v = f(f(correctedAcc(c, i, j, ldc, e)) * mult[e.actRows ? j : i]);
    v = Math.min(Math.max(v, qmin - zy), qmax - zy);
    out[i * n + j] = roundHalfEven(v) + zy;
  }
  return out;
}

/** decode_cols: (lut[u] − zp[j,blk])·scale[j,blk] for every column, rows of kp floats. */
export function decodeColsRef(packed: Uint8Array, n: number, k: number, bits: 1 | 2 | 4 | 8, lut: Float32Array, scales: Float32Array, zps: Float32Array, nb: number, bs: number): Float32Array {
  const kp = Math.ceil(k / 4) * 4;
  const u = unpackColumns(packed, n, k, bits);
  const out = new Float32Array(n * kp);
  for (let j = 0; j < n; j++) for (let q = 0; q < k; q++) {
    const blk = j * nb + Math.floor(q / bs);
    out[j * kp + q] = f(f(lut[u[j * k + q]] - zps[blk]) * scales[blk]);
  }
  return out;
}

/** gemm_f32 with the kernels' sum order: lane l sums k ≡ l (mod 4) in order, then (l0+l1)+(l2+l3). */
export function gemmF32Ref(x: Float32Array, m: number, kp: number, wdec: Float32Array, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    const l = [0, 0, 0, 0];
    for (let q = 0; q < kp; q++) l[q & 3] = f(l[q & 3] + f(x[i * kp + q] * wdec[j * kp + q]));
    out[i * n + j] = f(f(l[0] + l[1]) + f(l[2] + l[3]));
  }
  return out;
}

/** depthwise_conv: Σ (x − za)(w − zw[c]) per channel and output pixel (im2col geometry per channel). */
export function depthwiseRef(x: Uint8Array, g: Im2colGeometry, signedX: boolean, za: number, wts: Int8Array, zw: Int32Array): Int32Array {
  const pixels = g.oh * g.ow, kk = g.kh * g.kw;
  const out = new Int32Array(g.c * pixels);
  for (let ch = 0; ch < g.c; ch++) {
    const plane = x.subarray(ch * g.h * g.w, (ch + 1) * g.h * g.w);
    const cols = im2colRef(plane, { ...g, c: 1 }, kk, za & 0xff);
    for (let p = 0; p < pixels; p++) {
      let s = 0;
      for (let q = 0; q < kk; q++) { const b = cols[p * kk + q]; s += ((signedX && b > 127 ? b - 256 : b) - za) * (wts[ch * kk + q] - zw[ch]); }
      out[ch * pixels + p] = s;
    }
  }
  return out;
}
