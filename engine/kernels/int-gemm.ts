// SPDX-License-Identifier: Apache-2.0
/**
 * Integer GEMM and convolution on the WebAssembly kernels: packs weights once, quantizes (or takes) the
 * activation codes, runs the int8 panel GEMM or the low-bit GEMM, then the zero-point/bias epilogue that
 * either dequantizes to FP32 or requantizes to output codes (bit-exact with onnxruntime's QLinearMatMul /
 * QLinearConv). Layouts: 'panels' (int8 weights as 8-column panels, activations on the int16 splat side —
 * MatMul/Gemm), 'rows' (int8 weight rows widened per call onto the splat side, activations im2col'd into
 * panels — Conv), 'lowbit' (≤4-bit codes in low-bit panels; both ops), 'lut' (≤4-bit codes as bit planes for
 * the lookup-table kernel; MatMul/Gemm).
 */
import type { KernelModule } from './wasm-module';
import type { EpilogueActivation } from '../kernel-api';
import { winogradAccumulators, winogradFits, type WinogradWeights } from './winograd-int';
import { lowbitPanelK, lutK, packLowbitPanels, packLutPlanes } from './packing';

export type IntLayout = 'panels' | 'rows' | 'lowbit' | 'lut';

/** Weights packed for an integer kernel: w[c,k] = gain·stored[c,k] − zw[c] for output channel c. */
export interface IntWeights {
  layout: IntLayout;
  /** 8 for 'panels'/'rows' (signed stored bytes); 1/2/4 for 'lowbit' (unsigned stored codes). */
  bits: 1 | 2 | 4 | 8;
  n: number;
  k: number;
  /** Padded k: multiple of 4 for int8 layouts, of 16 for low-bit. */
  kp: number;
  /** 'rows': bytes per output channel; 'lowbit': bytes per group of channels (each group packed as whole panels). */
  colBytes: number;
  /** Channel groups packed separately ('lowbit' convolutions with groups). */
  groups: number;
  ptr: number;
  wSumPtr: number;
  zwPtr: number;
  gain: number;
  packedBytes: number;
  /** 3×3 Conv weights transformed for the integer Winograd path (engine/kernels/winograd-int.ts), when built. */
  winograd?: WinogradWeights;
}

const int8Kp = (k: number) => Math.ceil(k / 4) * 4;

/** int8 weights (n × k, signed) as panels of 8 columns: per k pair 16 bytes [k0 j0, k1 j0, … k1 j7]. */
export function packPanels(stored: ArrayLike<number>, n: number, k: number): Uint8Array {
  const kp = int8Kp(k);
  const np = Math.ceil(n / 8);
  const out = new Uint8Array(np * kp * 8);
  for (let j = 0; j < n; j++) {
    const base = (j >> 3) * kp * 8 + (j & 7) * 2;
    for (let i = 0; i < k; i++) out[base + (i >> 1) * 16 + (i & 1)] = stored[j * k + i] & 0xff;
  }
  return out;
}

/** Packs n×k stored values (s8 for int8 layouts, unsigned codes for low-bit) with per-channel zero points. */
export function packIntWeights(mod: KernelModule, stored: Int32Array, n: number, k: number, bits: 1 | 2 | 4 | 8, zw: Int32Array, gain: number, layout: IntLayout, groups = 1): IntWeights {
  let packed: Uint8Array;
  let kp: number;
  let colBytes = 0;
  if (layout === 'lowbit') {
    if (bits === 8) throw new RangeError('lowbit layout needs 1, 2 or 4 bits');
    // each group of output channels gets whole panels, so a group's weights start on a panel boundary
    const opg = n / groups;
    const parts = Array.from({ length: groups }, (_, g) => packLowbitPanels(stored.subarray(g * opg * k, (g + 1) * opg * k), opg, k, bits));
    colBytes = parts[0].length;
    packed = new Uint8Array(colBytes * groups);
    parts.forEach((p, g) => packed.set(p, g * colBytes));
    kp = lowbitPanelK(k);
  } else if (layout === 'lut') {
    if (bits === 8) throw new RangeError('lut layout needs 1, 2 or 4 bits');
    packed = packLutPlanes(stored, n, k, bits);
    kp = lutK(k);
  } else {
    kp = int8Kp(k);
    if (layout === 'panels') {
      packed = packPanels(stored, n, k);
    } else {
      colBytes = kp;
      packed = new Uint8Array(n * kp);
      for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) packed[j * kp + i] = stored[j * k + i] & 0xff;
    }
  }
  const wSum = new Int32Array(n);
  for (let j = 0; j < n; j++) { let s = 0; for (let i = 0; i < k; i++) s += stored[j * k + i]; wSum[j] = s; }
  const ptr = mod.alloc(packed.length);
  mod.put(ptr, packed);
  const wSumPtr = mod.alloc(n * 4);
  mod.put(wSumPtr, wSum);
  const zwPtr = mod.alloc(n * 4);
  mod.put(zwPtr, zw);
  return { layout, bits, n, k, kp, colBytes, groups, ptr, wSumPtr, zwPtr, gain, packedBytes: packed.length };
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

/**
 * Dequantize to FP32 with scale[c] = sa·sw[c], or requantize to output codes with mult[c] = sa·sw[c]/sy. A
 * dequantizing epilogue can also apply a fused per-channel affine (BatchNormalization: f32 k[c], b[c] in kernel
 * memory) and an activation (ReLU, Clip, HardSwish, HardSigmoid, LeakyRelu).
 */
export type Epilogue =
  | { kind: 'dequant'; scalePtr: number; affine?: { kPtr: number; bPtr: number }; activation?: EpilogueActivation }
  | { kind: 'requant'; multPtr: number; zy: number; qmin: number; qmax: number };

/** How activation codes are stored for a kernel: byte = (code & 0xFF) ^ flip, zero point and sign in that encoding. */
export function actEncoding(mod: KernelModule, w: IntWeights, act: ActQuant): { flip: number; za: number; signed: boolean } {
  // int8 layouts widen codes as they are; the low-bit kernel wants u8 (plain SIMD) or s8 (relaxed SIMD)
  const ks = w.layout === 'lowbit' ? mod.k.lowbit_signed_activations() === 1 : w.layout === 'lut' ? false : act.signed;
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
  const p = mod.scratch(rows * stride);
  const bytes = mod.u8(p, rows * stride);
  bytes.fill(0);
  for (let r = 0; r < rows; r++) for (let i = 0; i < k; i++) bytes[r * stride + i] = (codes[r * k + i] & 0xff) ^ flip;
  return p;
}

/** The activation code and parameters finish_dequant takes (engine/wasm/assembly/epilogue.ts ACT_*). */
function activationArgs(a: EpilogueActivation | undefined): [number, number, number] {
  switch (a?.kind) {
    case undefined: return [0, 0, 0];
    case 'clamp': return [1, a.lo, a.hi];
    case 'hardswish': return [2, 0, 0];
    case 'hardsigmoid': return [3, a.alpha, a.beta];
    case 'leaky': return [4, a.alpha, 0];
  }
}

function finish(mod: KernelModule, w: IntWeights, c: number, m: number, n: number, ldc: number, actSum: number, za: number, ch0: number,
  biasPtr: number, epi: Epilogue, outPtr: number, osm: number, osn: number, actRows: boolean, zwPtr = w.zwPtr): void {
  const off = ch0 * 4;
  const bias = biasPtr ? biasPtr + off : 0;
  const ar = actRows ? 1 : 0;
  if (epi.kind === 'dequant') {
    const aff = epi.affine;
    const [act, p, q] = activationArgs(epi.activation);
    mod.k.finish_dequant(c, m, n, ldc, w.k, actSum, za, w.wSumPtr + off, zwPtr + off, w.gain, bias, epi.scalePtr + off, outPtr, osm, osn, ar,
      aff ? aff.kPtr + off : 0, aff ? aff.bPtr + off : 0, act, p, q);
  } else {
    mod.k.finish_requant(c, m, n, ldc, w.k, actSum, za, w.wSumPtr + off, zwPtr + off, w.gain, bias, epi.multPtr + off, epi.zy, epi.qmin, epi.qmax, outPtr, osm, osn, ar);
  }
}

/**
 * MatMul: m activation rows (kernel bytes at aPtr, stride w.kp) against all weight channels, then the
 * epilogue into out[i·osm + j·osn]. Works for the 'panels' and 'lowbit' layouts.
 */
export function gemmWithEpilogue(mod: KernelModule, w: IntWeights, aPtr: number, m: number, act: ActQuant, biasPtr: number, epi: Epilogue, outPtr: number, osm: number, osn: number): void {
  const enc = actEncoding(mod, w, act);
  const rowSum = mod.scratch(m * 4);
  mod.k.row_sums(aPtr, m, w.k, w.kp, enc.signed ? 1 : 0, rowSum);
  if (w.layout === 'panels') {
    const np = Math.ceil(w.n / 8);
    const s = mod.scratch(m * w.kp * 2);
    mod.k.pack_s16(aPtr, m, w.kp, w.kp, enc.signed ? 1 : 0, s);
    const c = mod.scratch(m * np * 32);
    mod.k.gemm_panels(s, m, w.kp, w.ptr, np, 1, c, np * 8);
    finish(mod, w, c, m, w.n, np * 8, rowSum, enc.za, 0, biasPtr, epi, outPtr, osm, osn, true);
  } else if (w.layout === 'lowbit') {
    const np = Math.ceil(w.n / 8);
    const c = lowbitRaw(mod, w, aPtr, m, w.ptr, np);
    finish(mod, w, c, m, w.n, np * 8, rowSum, enc.za, 0, biasPtr, epi, outPtr, osm, osn, true);
  } else if (w.layout === 'lut') {
    const nb = Math.ceil(w.n / 16);
    const tab = mod.scratch(w.kp * 8);
    const c = mod.scratch(m * nb * 64);
    mod.k.gemm_lut(aPtr, m, w.kp, w.ptr, nb, w.bits, tab, c, nb * 16);
    finish(mod, w, c, m, w.n, nb * 16, rowSum, enc.za, 0, biasPtr, epi, outPtr, osm, osn, true);
  } else {
    throw new RangeError(`gemmWithEpilogue: weights in layout ${w.layout}`);
  }
}

/**
 * Raw low-bit GEMM of m activation rows (kernel bytes, stride w.kp) against np panels at panelPtr; returns
 * the int32 result (m × np·8) in scratch. Relaxed build: the relaxed-dot kernel on signed bytes; plain
 * build: panels unpacked to int8 and multiplied by the int8 panel kernel.
 */
export function lowbitRaw(mod: KernelModule, w: IntWeights, aPtr: number, m: number, panelPtr: number, np: number): number {
  const c = mod.scratch(m * np * 32);
  if (mod.k.lowbit_signed_activations() === 1) {
    mod.k.gemm_lowbit_relaxed(aPtr, m, w.kp, panelPtr, np, w.bits, c, np * 8);
  } else {
    const s = mod.scratch(m * w.kp * 2);
    mod.k.pack_s16(aPtr, m, w.kp, w.kp, 0, s);
    const p8 = mod.scratch(np * w.kp * 8);
    mod.k.unpack_lowbit(panelPtr, np, w.kp, w.bits, p8);
    mod.k.gemm_panels(s, m, w.kp, p8, np, 0, c, np * 8);
  }
  return c;
}

/** Convolution geometry (2-D; 1-D convolutions use h = 1). */
export interface ConvGeometry {
  batch: number; cin: number; h: number; w: number; cout: number; group: number;
  kh: number; kw: number; sh: number; sw: number; padTop: number; padLeft: number; dh: number; dw: number; oh: number; ow: number;
}

/**
 * The epilogue of one image for kernels whose int32 accumulators already hold Σ (x − za)(w − zw) (depthwise,
 * Winograd): it runs with zero zero points and zero sums. Returns finish(accumulators, image index).
 */
function exactFinisher(mod: KernelModule, wts: IntWeights, g: ConvGeometry, biasPtr: number, epi: Epilogue, outPtr: number): (c: number, b: number) => void {
  const pixels = g.oh * g.ow, n = Math.max(pixels, g.cout);
  const zeros = mod.scratch(n * 4);
  mod.i32(zeros, n).fill(0);
  return (c, b) => finish(mod, wts, c, g.cout, pixels, pixels, zeros, 0, 0, biasPtr, epi, outPtr + b * g.cout * pixels * 4, pixels, 1, false, zeros);
}

/**
 * Integer convolution per image and group. `xBytes` points at the whole input already in kernel encoding
 * (batch·cin·h·w bytes). Output (NCHW, 4-byte elements: f32 or int32 codes) goes to outPtr. 'rows' weights:
 * im2col into panels, weights on the splat side; 'lowbit' weights: im2col rows against k-contiguous codes.
 */
export function convWithEpilogue(mod: KernelModule, wts: IntWeights, xBytes: number, g: ConvGeometry, act: ActQuant, biasPtr: number, epi: Epilogue, outPtr: number): void {
  const cpg = g.cin / g.group;
  const opg = g.cout / g.group;
  const pixels = g.oh * g.ow;
  const enc = actEncoding(mod, wts, act);
  const padByte = enc.za & 0xff;
  if (winogradFits(wts.winograd, g)) {
    const acc = mod.scratch(g.cout * pixels * 4);
    const finishImage = exactFinisher(mod, wts, g, biasPtr, epi, outPtr);
    for (let b = 0; b < g.batch; b++) {
      winogradAccumulators(mod, wts.winograd, xBytes + b * g.cin * g.h * g.w, g, enc.signed, enc.za, acc);
      finishImage(acc, b);
    }
    return;
  }
  if (wts.layout === 'rows' && g.group === g.cin && g.cout === g.cin && wts.gain === 1) {
    // depthwise: direct kernel computing Σ (x − za)(w − zw) per channel, so the epilogue sees zero zero points
    const pb = Math.max(0, (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1 - g.h - g.padTop);
    const pr = Math.max(0, (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1 - g.w - g.padLeft);
    const pad = mod.scratch((g.h + g.padTop + pb) * (g.w + g.padLeft + pr) + 16);
    const c = mod.scratch(g.cout * pixels * 4);
    const finishImage = exactFinisher(mod, wts, g, biasPtr, epi, outPtr);
    for (let b = 0; b < g.batch; b++) {
      mod.k.depthwise_conv(xBytes + b * g.cin * g.h * g.w, g.cin, g.h, g.w, enc.signed ? 1 : 0, enc.za, wts.ptr, wts.kp, wts.zwPtr, g.kh, g.kw,
        g.sh, g.sw, g.padTop, g.padLeft, pb, pr, g.dh, g.dw, g.oh, g.ow, pad, c);
      finishImage(c, b);
    }
    return;
  }
  if (wts.layout === 'rows') {
    const s = mod.scratch(g.cout * wts.kp * 2);
    for (let gi = 0; gi < g.group; gi++) mod.k.pack_s16(wts.ptr + gi * opg * wts.kp, opg, wts.kp, wts.kp, 1, s + gi * opg * wts.kp * 2);
    // several images share one GEMM (their pixels side by side) while the panels stay within a few MB
    const chunk = Math.max(1, Math.min(g.batch, Math.floor((4 << 20) / (pixels * wts.kp))));
    const np = Math.ceil((chunk * pixels) / 8);
    const panels = mod.scratch(np * wts.kp * 8);
    const tmp = mod.scratch(np * wts.kp * 8);
    const colSum = mod.scratch(np * 32);
    const c = mod.scratch(opg * np * 32);
    for (let b0 = 0; b0 < g.batch; b0 += chunk) {
      const nbat = Math.min(chunk, g.batch - b0);
      const npc = Math.ceil((nbat * pixels) / 8);
      for (let gi = 0; gi < g.group; gi++) {
        const src = xBytes + (b0 * g.cin + gi * cpg) * g.h * g.w;
        mod.k.im2col_panels(src, nbat, g.cin * g.h * g.w, cpg, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.dh, g.dw, g.oh, g.ow, wts.kp, padByte, tmp, panels);
        mod.k.panel_col_sums(panels, npc, wts.kp, enc.signed ? 1 : 0, colSum);
        mod.k.gemm_panels(s + gi * opg * wts.kp * 2, opg, wts.kp, panels, npc, enc.signed ? 1 : 0, c, npc * 8);
        for (let b = 0; b < nbat; b++) {
          const out = outPtr + ((b0 + b) * g.cout + gi * opg) * pixels * 4;
          finish(mod, wts, c + b * pixels * 4, opg, pixels, npc * 8, colSum + b * pixels * 4, enc.za, gi * opg, biasPtr, epi, out, pixels, 1, false);
        }
      }
    }
    return;
  }
  if (wts.layout !== 'lowbit') throw new RangeError(`convWithEpilogue: weights in layout ${wts.layout}`);
  if (wts.groups !== g.group) throw new RangeError(`weights packed for ${wts.groups} groups, conv has ${g.group}`);
  const col = mod.scratch(pixels * wts.kp);
  const rowSum = mod.scratch(pixels * 4);
  const np = Math.ceil(opg / 8);
  for (let b = 0; b < g.batch; b++) for (let gi = 0; gi < g.group; gi++) {
    const src = xBytes + (b * g.cin + gi * cpg) * g.h * g.w;
    mod.k.im2col(src, cpg, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.dh, g.dw, g.oh, g.ow, wts.kp, padByte, col);
    mod.k.row_sums(col, pixels, wts.k, wts.kp, enc.signed ? 1 : 0, rowSum);
    const mark = mod.scratchMark();
    const c = lowbitRaw(mod, wts, col, pixels, wts.ptr + gi * wts.colBytes, np);
    const out = outPtr + (b * g.cout + gi * opg) * pixels * 4;
    finish(mod, wts, c, pixels, opg, np * 8, rowSum, enc.za, gi * opg, biasPtr, epi, out, 1, pixels, true);
    mod.scratchRelease(mark);
  }
}
