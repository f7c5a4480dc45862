// SPDX-License-Identifier: Apache-2.0
// Every WebAssembly kernel equals its scalar reference (engine/kernels/reference.ts) bit for bit on
// randomised shapes with awkward sizes. Runs on the default build here; relaxed-simd.test.ts re-runs this
// file in a child Node with relaxed SIMD enabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelModule, defaultSimdLevel } from '../../../engine/kernels/wasm-module';
import { columnBytes, lutK, packLutPlanes, lowbitPanelK, packColumns, packLowbitPanels, unpackLowbitPanels } from '../../../engine/kernels/packing';
import { lowbitRaw } from '../../../engine/kernels/int-gemm';
import * as ref from '../../../engine/kernels/reference';
import { pick, randInt, rng } from './rng';

const level = defaultSimdLevel();
const AWKWARD = [1, 3, 17, 255, 4095];

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  const fa = new Float32Array(Array.from(a)), fb = new Float32Array(Array.from(b));
  const ia = new Int32Array(fa.buffer), ib = new Int32Array(fb.buffer);
  for (let i = 0; i < ia.length; i++) if (ia[i] !== ib[i] && !(a[i] === b[i])) assert.fail(`${what}: element ${i} differs: ${a[i]} vs ${b[i]}`);
}

function i32Equal(a: Int32Array, b: Int32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`${what}: element ${i} differs: ${a[i]} vs ${b[i]}`);
}

test(`quantize_rows and row_sums equal their references (${level})`, () => {
  const mod = new KernelModule(level);
  const r = rng(7);
  for (const k of AWKWARD) {
    const rows = pick(r, [1, 2, 5]);
    const kp = Math.ceil(k / 16) * 16;
    const x = Float32Array.from({ length: rows * k }, () => (r() - 0.5) * 20);
    x[0] = 0.5 * 0.1; // a tie after division
    const scale = 0.1, signed = k % 2 === 1;
    const [qmin, qmax, zp] = signed ? [-128, 127, randInt(r, -5, 5)] : [0, 255, randInt(r, 100, 150)];
    for (const flip of [0, 0x80]) {
      mod.resetScratch();
      const xp = mod.scratch(x.byteLength); mod.put(xp, x);
      const qp = mod.scratch(rows * kp);
      mod.k.quantize_rows(xp, rows, k, kp, qp, scale, zp, qmin, qmax, flip);
      const want = ref.quantizeRowsRef(x, rows, k, kp, scale, zp, qmin, qmax, flip);
      i32Equal(Int32Array.from(mod.u8(qp, rows * kp)), Int32Array.from(want), `quantize k=${k} flip=${flip}`);
      for (const s of [0, 1]) {
        const sp = mod.scratch(rows * 4);
        mod.k.row_sums(qp, rows, k, kp, s, sp);
        i32Equal(mod.i32(sp, rows).slice(), ref.rowSumsRef(want, rows, k, kp, s === 1), `row_sums k=${k}`);
      }
    }
  }
});

test(`im2col equals its reference (${level})`, () => {
  const mod = new KernelModule(level);
  const r = rng(8);
  for (let t = 0; t < 12; t++) {
    const g = { c: randInt(r, 1, 5), h: randInt(r, 1, 13), w: randInt(r, 1, 13), kh: pick(r, [1, 3, 5]), kw: pick(r, [1, 2, 3]),
      sh: randInt(r, 1, 3), sw: randInt(r, 1, 3), padTop: randInt(r, 0, 2), padLeft: randInt(r, 0, 2), dh: randInt(r, 1, 2), dw: randInt(r, 1, 2), oh: 0, ow: 0 };
    g.oh = Math.floor((g.h + 2 * g.padTop - ((g.kh - 1) * g.dh + 1)) / g.sh) + 1;
    g.ow = Math.floor((g.w + 2 * g.padLeft - ((g.kw - 1) * g.dw + 1)) / g.sw) + 1;
    if (g.oh < 1 || g.ow < 1) continue;
    const k = g.c * g.kh * g.kw, kp = Math.ceil(k / 16) * 16;
    const src = Uint8Array.from({ length: g.c * g.h * g.w }, () => randInt(r, 0, 255));
    mod.resetScratch();
    const sp = mod.scratch(src.length); mod.put(sp, src);
    const dp = mod.scratch(g.oh * g.ow * kp);
    mod.k.im2col(sp, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.dh, g.dw, g.oh, g.ow, kp, 77, dp);
    i32Equal(Int32Array.from(mod.u8(dp, g.oh * g.ow * kp)), Int32Array.from(ref.im2colRef(src, g, kp, 77)), `im2col ${JSON.stringify(g)}`);
  }
});

test(`int8 panel GEMM, widening, panel sums and im2col panels equal their references (${level})`, () => {
  const mod = new KernelModule(level);
  const r = rng(9);
  for (const k of AWKWARD) for (const [m, n] of [[1, 1], [3, 17], [4, 8], [9, 13], [12, 5]]) {
    if (k === 4095 && m * n > 40) continue;
    const kp = Math.ceil(k / 4) * 4, np = Math.ceil(n / 8);
    for (const signed of [true, false]) {
      const bytes = new Uint8Array(m * kp);
      for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) bytes[i * kp + q] = randInt(r, 0, 255);
      const panels = new Uint8Array(np * kp * 8);
      for (let j = 0; j < n; j++) for (let q = 0; q < k; q++) panels[(j >> 3) * kp * 8 + (q >> 1) * 16 + (j & 7) * 2 + (q & 1)] = randInt(r, 0, 255);
      mod.resetScratch();
      const bp = mod.scratch(bytes.length), pp = mod.scratch(panels.length), sp = mod.scratch(m * kp * 2), cp = mod.scratch(m * np * 32), cs = mod.scratch(np * 32);
      mod.put(bp, bytes); mod.put(pp, panels);
      mod.k.pack_s16(bp, m, kp, kp, signed ? 1 : 0, sp);
      const s16 = Int16Array.from(bytes, (b) => (signed && b > 127 ? b - 256 : b));
      i32Equal(Int32Array.from(new Int16Array(mod.memory.buffer, sp, m * kp)), Int32Array.from(ref.packS16Ref(s16, m, kp)), `pack_s16 m=${m} k=${k}`);
      mod.k.gemm_panels(sp, m, kp, pp, np, signed ? 1 : 0, cp, np * 8);
      i32Equal(mod.i32(cp, m * np * 8).slice(), ref.gemmPanelsRef(s16, m, kp, panels, np, signed), `gemm_panels m=${m} n=${n} k=${k} signed=${signed}`);
      mod.k.panel_col_sums(pp, np, kp, signed ? 1 : 0, cs);
      i32Equal(mod.i32(cs, np * 8).slice(), ref.panelColSumsRef(panels, np, kp, signed), `panel_col_sums k=${k}`);
    }
  }
  for (let t = 0; t < 40; t++) {
    const g = { c: randInt(r, 1, 5), h: randInt(r, 1, 13), w: randInt(r, 1, 13), kh: pick(r, [1, 3, 5]), kw: pick(r, [1, 2, 3]),
      sh: randInt(r, 1, 3), sw: randInt(r, 1, 3), padTop: randInt(r, 0, 2), padLeft: randInt(r, 0, 2), dh: randInt(r, 1, 2), dw: randInt(r, 1, 2), oh: 0, ow: 0 };
    g.oh = Math.floor((g.h + 2 * g.padTop - ((g.kh - 1) * g.dh + 1)) / g.sh) + 1;
    g.ow = Math.floor((g.w + 2 * g.padLeft - ((g.kw - 1) * g.dw + 1)) / g.sw) + 1;
    if (t >= 10) {
      // stride 1 with "same" width (any left/right pad split): the kernel's whole-plane path
      Object.assign(g, { sh: 1, sw: 1, dw: 1, kw: pick(r, [1, 2, 3, 5]) });
      g.padLeft = randInt(r, 0, g.kw - 1);
      g.oh = g.h + g.padTop + randInt(r, 0, 2) - ((g.kh - 1) * g.dh + 1) + 1;
      g.ow = g.w;
    }
    if (g.oh < 1 || g.ow < 1) continue;
    const kp = Math.ceil((g.c * g.kh * g.kw) / 4) * 4, np = Math.ceil((g.oh * g.ow) / 8);
    const src = Uint8Array.from({ length: g.c * g.h * g.w }, () => randInt(r, 0, 255));
    mod.resetScratch();
    const sp = mod.scratch(src.length); mod.put(sp, src);
    const dp = mod.scratch(np * kp * 8), tp = mod.scratch(np * kp * 8);
    mod.k.im2col_panels(sp, 1, 0, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.dh, g.dw, g.oh, g.ow, kp, 77, tp, dp);
    i32Equal(Int32Array.from(mod.u8(dp, np * kp * 8)), Int32Array.from(ref.im2colPanelsRef(src, g, kp, 77)), `im2col_panels ${JSON.stringify(g)}`);
  }
});

test(`low-bit GEMM (binary, 2-bit, 4-bit) equals its reference (${level})`, () => {
  const mod = new KernelModule(level);
  const signedActs = mod.k.lowbit_signed_activations() === 1;
  const r = rng(10);
  for (const bits of [1, 2, 4] as const) for (const k of AWKWARD) for (const [m, n] of [[1, 1], [3, 5], [4, 17], [9, 8]]) {
    if (k === 4095 && m * n > 40) continue;
    const kp = lowbitPanelK(k), np = Math.ceil(n / 8);
    const u = Int32Array.from({ length: n * k }, () => randInt(r, 0, (1 << bits) - 1));
    const packed = packLowbitPanels(u, n, k, bits);
    assert.deepEqual(Array.from(unpackLowbitPanels(packed, n, k, bits)), Array.from(u));
    const a = new Uint8Array(m * kp);
    for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) a[i * kp + q] = randInt(r, 0, 255);
    // an extreme row: the int16 partial sums must not overflow
    for (let q = 0; q < k; q++) a[q] = signedActs ? 0x80 : 255;
    const w = { layout: 'lowbit' as const, bits, n, k, kp, colBytes: packed.length, groups: 1, ptr: 0, wSumPtr: 0, zwPtr: 0, gain: 1, packedBytes: packed.length };
    mod.resetScratch();
    const ap = mod.scratch(a.length), wp = mod.scratch(packed.length);
    mod.put(ap, a); mod.put(wp, packed);
    const cp = lowbitRaw(mod, w, ap, m, wp, np);
    const got = new Int32Array(m * n);
    const full = mod.i32(cp, m * np * 8);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) got[i * n + j] = full[i * np * 8 + j];
    i32Equal(got, ref.gemmLowbitRef(a, packed, m, n, k, bits, signedActs), `low-bit bits=${bits} m=${m} n=${n} k=${k}`);
  }
});

test(`LUT (T-MAC) kernel equals the integer reference (${level})`, () => {
  const mod = new KernelModule(level);
  const r = rng(13);
  for (const bits of [1, 2, 4] as const) for (const k of [1, 3, 17, 255, 1000]) for (const [m, n] of [[1, 1], [2, 17], [3, 33]]) {
    const kp = lutK(k), nb = Math.ceil(n / 16);
    const u = Int32Array.from({ length: n * k }, () => randInt(r, 0, (1 << bits) - 1));
    const a = new Uint8Array(m * kp);
    for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) a[i * kp + q] = i === 0 ? 255 : randInt(r, 0, 255);
    const packed = packLutPlanes(u, n, k, bits);
    mod.resetScratch();
    const ap = mod.scratch(a.length), wp = mod.scratch(packed.length), tab = mod.scratch(kp * 8), cp = mod.scratch(m * nb * 64);
    mod.put(ap, a); mod.put(wp, packed);
    mod.k.gemm_lut(ap, m, kp, wp, nb, bits, tab, cp, nb * 16);
    const full = mod.i32(cp, m * nb * 16);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += a[i * kp + q] * u[j * k + q];
      if (full[i * nb * 16 + j] !== s) assert.fail(`lut bits=${bits} k=${k} at ${i},${j}: ${full[i * nb * 16 + j]} vs ${s}`);
    }
  }
});

test(`depthwise convolution equals its reference (${level})`, () => {
  const mod = new KernelModule(level);
  const r = rng(14);
  for (let t = 0; t < 24; t++) {
    const g = { c: randInt(r, 1, 4), h: randInt(r, 1, 21), w: randInt(r, 1, 21), kh: pick(r, [1, 3, 5]), kw: pick(r, [1, 3, 5]),
      sh: pick(r, [1, 1, 2]), sw: pick(r, [1, 2, 2, 3]), padTop: randInt(r, 0, 2), padLeft: randInt(r, 0, 2), dh: randInt(r, 1, 2), dw: randInt(r, 1, 2), oh: 0, ow: 0 };
    if (t % 2 === 0) { g.sh = 1; g.sw = 1; }
    g.oh = Math.floor((g.h + 2 * g.padTop - ((g.kh - 1) * g.dh + 1)) / g.sh) + 1;
    g.ow = Math.floor((g.w + 2 * g.padLeft - ((g.kw - 1) * g.dw + 1)) / g.sw) + 1;
    if (g.oh < 1 || g.ow < 1) continue;
    const signedX = t % 3 === 0, za = signedX ? randInt(r, -10, 10) : randInt(r, 100, 150);
    const kk = g.kh * g.kw;
    const x = Uint8Array.from({ length: g.c * g.h * g.w }, () => randInt(r, 0, 255));
    const wts = Int8Array.from({ length: g.c * kk }, () => randInt(r, -128, 127));
    const zw = Int32Array.from({ length: g.c }, () => randInt(r, -3, 3));
    const pb = Math.max(0, (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1 - g.h - g.padTop);
    const pr = Math.max(0, (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1 - g.w - g.padLeft);
    mod.resetScratch();
    const put = (a: Uint8Array | Int8Array | Int32Array) => { const p = mod.scratch(a.byteLength); mod.put(p, a); return p; };
    const xp = put(x), wp = put(wts), zp = put(zw);
    const pad = mod.scratch((g.h + g.padTop + pb) * (g.w + g.padLeft + pr) + 16), out = mod.scratch(g.c * g.oh * g.ow * 4);
    mod.k.depthwise_conv(xp, g.c, g.h, g.w, signedX ? 1 : 0, za, wp, kk, zp, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, pb, pr, g.dh, g.dw, g.oh, g.ow, pad, out);
    i32Equal(mod.i32(out, g.c * g.oh * g.ow).slice(), ref.depthwiseRef(x, g, signedX, za, wts, zw), `depthwise ${JSON.stringify(g)}`);
  }
});

test(`epilogues (dequantize, requantize) equal their references (${level})`, () => {
  const mod = new KernelModule(level);
  const r = rng(11);
  for (let t = 0; t < 10; t++) {
    const m = randInt(r, 1, 7), n = randInt(r, 1, 41), k = pick(r, AWKWARD);
    const c = Int32Array.from({ length: m * n }, () => randInt(r, -2_000_000, 2_000_000));
    const actRows = t % 3 !== 0;
    const [na, nw] = actRows ? [m, n] : [n, m];
    const e = { k, actSum: Int32Array.from({ length: na }, () => randInt(r, 0, 255 * k)), za: randInt(r, 0, 255),
      wSum: Int32Array.from({ length: nw }, () => randInt(r, -128 * k, 127 * k)), zw: Int32Array.from({ length: nw }, () => randInt(r, -8, 8)),
      gain: pick(r, [1, 2]), bias: t % 2 ? Int32Array.from({ length: nw }, () => randInt(r, -1e5, 1e5)) : undefined, actRows };
    const scale = Float32Array.from({ length: nw }, () => r() * 1e-3);
    mod.resetScratch();
    const put = (x: Int32Array | Float32Array) => { const p = mod.scratch(x.byteLength); mod.put(p, x); return p; };
    const cp = put(c), as = put(e.actSum), ws = put(e.wSum), zw = put(e.zw), bp = e.bias ? put(e.bias) : 0, sp = put(scale);
    const out = mod.scratch(m * n * 4);
    mod.k.finish_dequant(cp, m, n, n, k, as, e.za, ws, zw, e.gain, bp, sp, out, n, 1, actRows ? 1 : 0, 0, 0, 0, 0, 0);
    const deq = ref.finishDequantRef(c, m, n, n, e, scale);
    sameBits(mod.f32(out, m * n).slice(), deq, 'finish_dequant');
    // with a fused BatchNormalization affine and a ReLU/Clip clamp: f32 v·k[c] + b[c], then the clamp
    const affK = Float32Array.from({ length: nw }, () => r() * 4 - 2), affB = Float32Array.from({ length: nw }, () => r() - 0.5);
    const [lo, hi] = t % 2 ? [0, Infinity] : [-0.25, 0.5];
    const kp = put(affK), bp2 = put(affB);
    const f = Math.fround, sixth = f(1 / 6);
    const clamp01 = (t: number) => (t > 0 ? (t > 1 ? 1 : t) : 0);
    // activation codes of epilogue.ts: 1 clamp [p, q], 2 hardswish, 3 hardsigmoid (p, q), 4 leaky (p)
    const acts: [number, number, number, (v: number) => number][] = [
      [1, lo, hi, (v) => (v > lo ? (v > hi ? hi : v) : lo)],
      [2, 0, 0, (v) => f(v * clamp01(f(f(v * sixth) + 0.5)))],
      [3, f(0.2), 0.5, (v) => clamp01(f(f(v * f(0.2)) + 0.5))],
      [4, f(0.1), 0, (v) => (v >= 0 ? v : f(v * f(0.1)))],
    ];
    for (const [code, p, q, fn] of acts) {
      mod.k.finish_dequant(cp, m, n, n, k, as, e.za, ws, zw, e.gain, bp, sp, out, n, 1, actRows ? 1 : 0, kp, bp2, code, p, q);
      const fused = deq.map((v, idx) => {
        const ch = actRows ? idx % n : Math.floor(idx / n);
        return fn(f(f(v * affK[ch]) + affB[ch]));
      });
      sameBits(mod.f32(out, m * n).slice(), fused, `finish_dequant with affine and activation ${code}`);
    }
    mod.k.finish_requant(cp, m, n, n, k, as, e.za, ws, zw, e.gain, bp, sp, 7, -128, 127, out, n, 1, actRows ? 1 : 0);
    i32Equal(mod.i32(out, m * n).slice(), ref.finishRequantRef(c, m, n, n, e, scale, 7, -128, 127), 'finish_requant');
  }
});

test(`decode-table and FP32 weight-only kernels equal their references (${level})`, () => {
  const mod = new KernelModule(level);
  const r = rng(12);
  for (const bits of [1, 2, 4, 8] as const) for (const k of [1, 3, 17, 255, 1025]) {
    const m = randInt(r, 1, 6), n = randInt(r, 1, 5);
    const bs = pick(r, [k, 16, 32, 1]);
    const nb = Math.ceil(k / bs);
    const u = Int32Array.from({ length: n * k }, () => randInt(r, 0, (1 << bits) - 1));
    const packed = packColumns(u, n, k, bits);
    const lut = Float32Array.from({ length: 1 << bits }, () => (r() - 0.5) * 4);
    const scales = Float32Array.from({ length: n * nb }, () => r() * 0.1);
    const zps = Float32Array.from({ length: n * nb }, () => randInt(r, -3, 3));
    const kp4 = Math.ceil(k / 4) * 4;
    mod.resetScratch();
    const put = (x: Uint8Array | Float32Array) => { const p = mod.scratch(x.byteLength); mod.put(p, x); return p; };
    const pp = put(packed), lp = put(lut), sp = put(scales), zp = put(zps);
    const dst = mod.scratch(n * kp4 * 4);
    mod.k.decode_cols(pp, columnBytes(bits, k), bits, 0, n, k, kp4, lp, sp, zp, nb, bs, dst);
    const wdec = ref.decodeColsRef(packed, n, k, bits, lut, scales, zps, nb, bs);
    sameBits(mod.f32(dst, n * kp4).slice(), wdec, `decode bits=${bits} k=${k}`);
    const x = new Float32Array(m * kp4);
    for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) x[i * kp4 + q] = (r() - 0.5) * 3;
    const xp = put(x);
    const out = mod.scratch(m * n * 4);
    mod.k.gemm_f32(xp, m, kp4, dst, n, out, n, 0);
    sameBits(mod.f32(out, m * n).slice(), ref.gemmF32Ref(x, m, kp4, wdec, n), `gemm_f32 k=${k}`);
  }
});
