// SPDX-License-Identifier: Apache-2.0
/**
 * The integer Winograd F(2×2, 3×3) path gives the im2col path's outputs bit for bit: random shapes (odd sizes, tail
 * rows, asymmetric pads), per-channel weight zero points, signed and unsigned activation codes, both epilogues with
 * the fused affine and activation, plain and relaxed SIMD builds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelModule, relaxedSimdSupported, type SimdLevel } from '../../../engine/kernels/wasm-module';
import { convWithEpilogue, packIntWeights, putActCodes, type ConvGeometry, type Epilogue } from '../../../engine/kernels/int-gemm';
import { winogradFits, winogradWeights } from '../../../engine/kernels/winograd-int';
import { pick, randInt, rng } from './rng';

const levels: SimdLevel[] = relaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd'];

for (const level of levels) {
  test(`integer Winograd equals im2col bit for bit (${level})`, () => {
    const mod = new KernelModule(level);
    const r = rng(2024);
    let ran = 0;
    for (let t = 0; t < 40 && ran < 24; t++) {
      const cin = randInt(r, 8, 40), cout = randInt(r, 1, 21), batch = randInt(r, 1, 2);
      const h = randInt(r, 3, 30), w = randInt(r, 14, 45);
      const pads = [randInt(r, 0, 2), randInt(r, 0, 2), randInt(r, 0, 2), randInt(r, 0, 2)];
      const oh = h + pads[0] + pads[2] - 2, ow = w + pads[1] + pads[3] - 2;
      if (oh < 1 || ow < 1) continue;
      const g: ConvGeometry = { batch, cin, h, w, cout, group: 1, kh: 3, kw: 3, sh: 1, sw: 1, padTop: pads[0], padLeft: pads[1], dh: 1, dw: 1, oh, ow };
      const signed = t % 2 === 1;
      const act = { scale: 0.02, zp: signed ? randInt(r, -20, 20) : randInt(r, 0, 255), qmin: signed ? -128 : 0, qmax: signed ? 127 : 255, signed };
      const stored = Int32Array.from({ length: cout * cin * 9 }, () => randInt(r, -128, 127));
      const zw = Int32Array.from({ length: cout }, () => (t % 3 === 0 ? 0 : randInt(r, -100, 100)));
      const plain = packIntWeights(mod, stored, cout, cin * 9, 8, zw, 1, 'rows');
      const wino = { ...plain, winograd: winogradWeights(mod, plain, cout, cin) ?? undefined };
      if (!winogradFits(wino.winograd, g)) continue;
      ran++;
      const x = Int32Array.from({ length: batch * cin * h * w }, () => randInt(r, act.qmin, act.qmax));
      const biasPtr = mod.alloc(cout * 4);
      mod.put(biasPtr, Int32Array.from({ length: cout }, () => randInt(r, -3000, 3000)));
      const scalePtr = mod.alloc(cout * 4);
      mod.put(scalePtr, Float32Array.from({ length: cout }, () => 1e-4 + r() * 1e-3));
      const kPtr = mod.alloc(cout * 4), bPtr = mod.alloc(cout * 4), multPtr = mod.alloc(cout * 4);
      mod.put(kPtr, Float32Array.from({ length: cout }, () => r() * 2 - 0.5));
      mod.put(bPtr, Float32Array.from({ length: cout }, () => r() - 0.5));
      mod.put(multPtr, Float32Array.from({ length: cout }, () => 1e-3 + r() * 1e-2));
      const epis: Epilogue[] = [
        { kind: 'dequant', scalePtr, affine: { kPtr, bPtr }, activation: pick(r, [{ kind: 'hardswish' }, { kind: 'clamp', lo: 0, hi: Infinity }] as const) },
        { kind: 'requant', multPtr, zy: 7, qmin: -128, qmax: 127 },
      ];
      for (const epi of epis) {
        const outs = [plain, wino].map((wts) => {
          mod.resetScratch();
          const xp = putActCodes(mod, wts, x, 1, x.length, x.length, act);
          const out = mod.scratch(batch * cout * oh * ow * 4);
          convWithEpilogue(mod, wts, xp, g, act, biasPtr, epi, out);
          return Array.from(mod.i32(out, batch * cout * oh * ow));
        });
        assert.deepEqual(outs[1], outs[0], `${epi.kind} ${JSON.stringify(g)} signed=${signed}`);
      }
    }
    assert.ok(ran >= 12, `enough geometries took the Winograd path (${ran})`);
  });
}
