// SPDX-License-Identifier: Apache-2.0
// The int8 kernels (u8 activations × s8 weights, int32 accumulation and bias, requantization) equal
// onnxruntime-node's QLinearMatMul and QLinearConv bit for bit on the same quantized inputs and parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { KernelModule, defaultSimdLevel } from '../../../engine/kernels/wasm-module';
import { convWithEpilogue, gemmWithEpilogue, packIntWeights, putActCodes, type ActQuant } from '../../../engine/kernels/int-gemm';
import { winogradFits, winogradWeights } from '../../../engine/kernels/winograd-int';
import { requantMultiplier } from '../../../engine/kernels/requant';
import { qlinearConvModel, qlinearMatMulModel } from './onnx-builders';
import { pick, randInt, rng } from './rng';

const level = defaultSimdLevel();
const U8: ActQuant = { scale: 0, zp: 0, qmin: 0, qmax: 255, signed: false };

async function runOrt(model: Uint8Array, x: Uint8Array, dims: number[]): Promise<Uint8Array> {
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  const name = s.inputNames[0];
  const out = await s.run({ [name]: new ort.Tensor('uint8', x, dims) });
  return out[s.outputNames[0]].data as Uint8Array;
}

function mismatches(ours: Int32Array, ref: Uint8Array): string {
  const bad: string[] = [];
  for (let i = 0; i < ref.length && bad.length < 5; i++) if (ours[i] !== ref[i]) bad.push(`[${i}] ours ${ours[i]} ort ${ref[i]}`);
  return bad.join(', ');
}

test(`int8 GEMM equals onnxruntime QLinearMatMul bit for bit (${level})`, async () => {
  const r = rng(1234);
  const mod = new KernelModule(level);
  const sizes = [1, 3, 16, 17, 64, 255];
  for (let t = 0; t < 24; t++) {
    const m = pick(r, [1, 2, 3, 5, 17]), k = pick(r, sizes), n = pick(r, [1, 3, 4, 17, 33]);
    const perCol = t % 2 === 1;
    const a = Uint8Array.from({ length: m * k }, () => randInt(r, 0, 255));
    const b = Int8Array.from({ length: k * n }, () => randInt(r, -128, 127));
    const aScale = Math.fround(0.002 + r() * 0.05), aZp = randInt(r, 0, 255);
    const bScale = Float32Array.from({ length: perCol ? n : 1 }, () => 0.001 + r() * 0.02);
    const bZp = Int8Array.from({ length: perCol ? n : 1 }, () => (t % 4 === 3 ? randInt(r, -20, 20) : 0));
    const yScale = Math.fround(aScale * bScale[0] * Math.sqrt(k) * (150 + r() * 300));
    const yZp = randInt(r, 90, 166);
    const ref = await runOrt(qlinearMatMulModel({ m, k, n, aScale, aZp, b, bScale, bZp, yScale, yZp }), a, [m, k]);

    const stored = new Int32Array(n * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) stored[j * k + i] = b[i * n + j];
    const zw = Int32Array.from({ length: n }, (_, j) => bZp[perCol ? j : 0]);
    const w = packIntWeights(mod, stored, n, k, 8, zw, 1, 'panels');
    const mult = Float32Array.from({ length: n }, (_, j) => requantMultiplier(aScale, bScale[perCol ? j : 0], yScale));
    const multPtr = mod.alloc(n * 4);
    mod.put(multPtr, mult);
    const act = { ...U8, scale: aScale, zp: aZp };
    mod.resetScratch();
    const ap = putActCodes(mod, w, a, m, k, w.kp, act);
    const out = mod.scratch(m * n * 4);
    gemmWithEpilogue(mod, w, ap, m, act, 0, { kind: 'requant', multPtr, zy: yZp, qmin: 0, qmax: 255 }, out, n, 1);
    const ours = mod.i32(out, m * n).slice();
    assert.equal(mismatches(ours, ref), '', `m=${m} k=${k} n=${n} perCol=${perCol}`);
  }
});

test(`int8 convolution equals onnxruntime QLinearConv bit for bit (${level})`, async () => {
  const r = rng(99);
  const mod = new KernelModule(level);
  const cases: { c: number; h: number; w: number; cout: number; k: number; attrs: { pads?: number[]; strides?: number[]; dilations?: number[] }; group: number }[] = [
    { c: 3, h: 9, w: 11, cout: 8, k: 3, attrs: { pads: [1, 1, 1, 1] }, group: 1 },
    { c: 16, h: 8, w: 8, cout: 17, k: 3, attrs: { strides: [2, 2], pads: [1, 0, 1, 0] }, group: 1 },
    { c: 8, h: 7, w: 7, cout: 8, k: 3, attrs: { pads: [1, 1, 1, 1] }, group: 8 },
    { c: 6, h: 10, w: 6, cout: 9, k: 3, attrs: { dilations: [2, 2], pads: [2, 2, 2, 2] }, group: 3 },
    { c: 17, h: 5, w: 5, cout: 4, k: 1, attrs: {}, group: 1 },
    { c: 4, h: 12, w: 12, cout: 5, k: 5, attrs: { strides: [3, 2], pads: [2, 1, 0, 2] }, group: 1 },
    { c: 5, h: 9, w: 10, cout: 5, k: 3, attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, group: 5 },
    { c: 16, h: 12, w: 19, cout: 16, k: 3, attrs: { pads: [1, 2, 1, 0], dilations: [1, 2] }, group: 16 },
    // 3×3 stride 1, one group, cin ≥ 8: the integer Winograd path (asserted below)
    { c: 16, h: 20, w: 37, cout: 10, k: 3, attrs: { pads: [1, 1, 1, 1] }, group: 1 },
    { c: 9, h: 17, w: 40, cout: 4, k: 3, attrs: { pads: [0, 2, 1, 0] }, group: 1 },
    { c: 24, h: 48, w: 48, cout: 7, k: 3, attrs: { pads: [1, 1, 1, 1] }, group: 1 },
  ];
  for (let t = 0; t < cases.length * 2; t++) {
    const cs = cases[t % cases.length];
    const perCh = t >= cases.length;
    const batch = t % 3 === 0 ? 2 : 1;
    const cpg = cs.c / cs.group;
    const wDims = [cs.cout, cpg, cs.k, cs.k];
    const x = Uint8Array.from({ length: batch * cs.c * cs.h * cs.w }, () => randInt(r, 0, 255));
    const wq = Int8Array.from({ length: cs.cout * cpg * cs.k * cs.k }, () => randInt(r, -128, 127));
    const xScale = Math.fround(0.01 + r() * 0.05), xZp = randInt(r, 0, 255);
    const wScale = Float32Array.from({ length: perCh ? cs.cout : 1 }, () => 0.002 + r() * 0.03);
    const wZp = new Int8Array(wScale.length);
    const kk = cpg * cs.k * cs.k;
    const yScale = Math.fround(xScale * wScale[0] * Math.sqrt(kk) * (150 + r() * 300));
    const yZp = randInt(r, 90, 166);
    const bias = Int32Array.from({ length: cs.cout }, () => randInt(r, -50000, 50000));
    const attrs = { ...cs.attrs, group: cs.group, kernel_shape: [cs.k, cs.k] };
    const ref = await runOrt(qlinearConvModel({ xDims: [batch, cs.c, cs.h, cs.w], w: wq, wDims, xScale, xZp, wScale, wZp, yScale, yZp, bias, attrs }), x, [batch, cs.c, cs.h, cs.w]);

    const wts = packIntWeights(mod, Int32Array.from(wq), cs.cout, kk, 8, new Int32Array(cs.cout), 1, 'rows');
    const mult = Float32Array.from({ length: cs.cout }, (_, j) => requantMultiplier(xScale, wScale[perCh ? j : 0], yScale));
    const multPtr = mod.alloc(cs.cout * 4);
    mod.put(multPtr, mult);
    const biasPtr = mod.alloc(cs.cout * 4);
    mod.put(biasPtr, bias);
    const p = cs.attrs.pads ?? [0, 0, 0, 0];
    const st = cs.attrs.strides ?? [1, 1];
    const dl = cs.attrs.dilations ?? [1, 1];
    const oh = Math.floor((cs.h + p[0] + p[2] - ((cs.k - 1) * dl[0] + 1)) / st[0]) + 1;
    const ow = Math.floor((cs.w + p[1] + p[3] - ((cs.k - 1) * dl[1] + 1)) / st[1]) + 1;
    const act = { ...U8, scale: xScale, zp: xZp };
    const g = { batch, cin: cs.c, h: cs.h, w: cs.w, cout: cs.cout, group: cs.group, kh: cs.k, kw: cs.k,
      sh: st[0], sw: st[1], padTop: p[0], padLeft: p[1], dh: dl[0], dw: dl[1], oh, ow };
    if (cs.k === 3 && cs.group === 1 && st[0] === 1 && dl[0] === 1 && cs.c >= 8) {
      wts.winograd = winogradWeights(mod, wts, cs.cout, cs.c) ?? undefined;
      assert.ok(winogradFits(wts.winograd, g), `case ${t} runs on the Winograd path`);
    }
    mod.resetScratch();
    const xp = putActCodes(mod, wts, x, 1, x.length, x.length, act);
    const out = mod.scratch(batch * cs.cout * oh * ow * 4);
    convWithEpilogue(mod, wts, xp, g, act, biasPtr, { kind: 'requant', multPtr, zy: yZp, qmin: 0, qmax: 255 }, out);
    const ours = mod.i32(out, ref.length).slice();
    assert.equal(ref.length, batch * cs.cout * oh * ow);
    assert.equal(mismatches(ours, ref), '', `case ${t} ${JSON.stringify(cs)} perCh=${perCh}`);
  }
});
