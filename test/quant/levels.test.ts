// SPDX-License-Identifier: Apache-2.0
// Exact level tables of the presets, derived by hand from their definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMATS, FORMAT_IDS, bitsPerElement } from '../../analysis/quant/formats';
import { familyRuntime } from '../../analysis/quant/families';
import { TableCodec } from '../../analysis/quant/codec';
import { rng } from './gen';
import { NF4_LEVELS, logCodec, minifloatCodec, minifloatMax, tanCodec } from '../../analysis/quant/levels';
import { calibrate } from '../../analysis/quant/calibrate';
import { quantize, codecOf } from '../../analysis/quant/quantize';

const positive = (id: string) => Array.from(minifloatCodec(FORMATS[id].minifloat!).book);

test('fp4_e2m1 magnitudes are 0, 0.5, 1, 1.5, 2, 3, 4, 6', () => {
  assert.deepEqual(positive('fp4_e2m1'), [0, 0.5, 1, 1.5, 2, 3, 4, 6]);
});

test('fp6 presets: E2M3 (max 7.5) and E3M2 (max 28) level tables', () => {
  const e2m3 = [0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1, 1.125, 1.25, 1.375, 1.5, 1.625, 1.75, 1.875,
    2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5];
  assert.deepEqual(positive('fp6_e2m3'), e2m3);
  const e3m2 = [0, 0.0625, 0.125, 0.1875, 0.25, 0.3125, 0.375, 0.4375, 0.5, 0.625, 0.75, 0.875, 1, 1.25, 1.5, 1.75,
    2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28];
  assert.deepEqual(positive('fp6_e3m2'), e3m2);
});

test('fp8_e4m3 (E4M3FN): 127 finite magnitudes, subnormal 2^-9, max 448, 0x7f is NaN, no Inf', () => {
  const c = minifloatCodec(FORMATS.fp8_e4m3.minifloat!);
  assert.equal(c.book.length, 127);
  assert.equal(c.book[1], 2 ** -9);
  assert.equal(c.book[8], 2 ** -6); // smallest normal
  assert.equal(minifloatMax(FORMATS.fp8_e4m3.minifloat!), 448);
  assert.equal(c.decode[0x7e], 448);
  assert.ok(Number.isNaN(c.decode[0x7f]) && Number.isNaN(c.decode[0xff]));
  assert.equal(c.decode[0xfe], -448);
  assert.ok(!Array.from(c.decode).some((v) => v === Infinity));
  assert.ok(Object.is(c.decode[0x80], -0));
});

test('fp8_e5m2: max 57344, subnormal 2^-16, Inf at 0x7c, NaN above', () => {
  const c = minifloatCodec(FORMATS.fp8_e5m2.minifloat!);
  assert.equal(minifloatMax(FORMATS.fp8_e5m2.minifloat!), 57344);
  assert.equal(c.book[1], 2 ** -16);
  assert.equal(c.decode[0x7b], 57344);
  assert.equal(c.decode[0x7c], Infinity);
  assert.equal(c.decode[0xfc], -Infinity);
  assert.ok(Number.isNaN(c.decode[0x7d]));
  assert.equal(c.book.length, 124);
});

test('minifloat ties round to the even mantissa and saturate at max', () => {
  const c = minifloatCodec(FORMATS.fp4_e2m1.minifloat!);
  const dec = (v: number) => c.decode[c.encode(v, 0)];
  assert.equal(dec(0.25), 0);   // tie 0|0.5 → 0 (even)
  assert.equal(dec(0.75), 1);   // tie 0.5|1 → 1 (code 2, even)
  assert.equal(dec(1.25), 1);   // tie 1|1.5 → 1
  assert.equal(dec(1.75), 2);   // tie 1.5|2 → 2
  assert.equal(dec(2.5), 2);    // tie 2|3 → 2
  assert.equal(dec(3.5), 4);    // tie 3|4 → 4
  assert.equal(dec(5), 4);      // tie 4|6 → 4
  assert.equal(dec(100), 6);
  assert.equal(dec(-100), -6);
  assert.ok(Object.is(dec(-0.1), -0));
});

test('NF4 book is the QLoRA table and NF4 uses block absmax', () => {
  assert.equal(NF4_LEVELS.length, 16);
  assert.equal(NF4_LEVELS[0], -1);
  assert.equal(NF4_LEVELS[7], 0);
  assert.equal(NF4_LEVELS[15], 1);
  const x = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i) * (i < 64 ? 1 : 4));
  const t = { data: x, dims: [128] };
  const p = calibrate(t, { format: 'nf4' });
  assert.deepEqual(p.granularity, { kind: 'group', axis: 0, size: 64 });
  const am = (a: number, b: number) => Math.max(...Array.from(x.subarray(a, b), Math.abs));
  assert.equal(p.scales[0], Math.fround(am(0, 64)));
  assert.equal(p.scales[1], Math.fround(am(64, 128)));
  const r = quantize(t, p);
  assert.ok(r.codes.every((c) => c >= 0 && c < 16));
});

test('nf4_dq: block scales double-quantized to FP8 around their mean, 4.127 bits/weight, error close to nf4', () => {
  const r = rng(7);
  const n = 64 * 600; // 600 blocks: three second-level groups of 256 scales
  const x = Float32Array.from({ length: n }, (_, i) => (r() - 0.5) * (1 + (i >> 6) % 13));
  const t = { data: x, dims: [n] };
  const plain = calibrate(t, { format: 'nf4' });
  const dq = calibrate(t, { format: 'nf4_dq' });
  assert.equal(dq.scales.length, 600);
  let mean = 0;
  for (const s of plain.scales) mean += s;
  mean = Math.fround(mean / plain.scales.length);
  const e4m3 = minifloatCodec({ exp: 4, man: 3, bias: 7, special: 'fn', subnormals: true, saturate: true });
  for (let b = 0; b < 600; b += 256) {
    const end = Math.min(600, b + 256);
    let amax = 0;
    for (let k = b; k < end; k++) amax = Math.max(amax, Math.abs(plain.scales[k] - mean));
    const s2 = Math.fround(amax / 448);
    for (let k = b; k < end; k++) {
      const code = (dq.scales[k] - mean) / s2;
      // each stored scale decodes from an E4M3 code of its centred value
      assert.ok(Math.abs(code - e4m3.level(e4m3.encode(code, 0), 0)) < 1e-3 * Math.max(1, Math.abs(code)), `scale ${k} is an FP8 code`);
      assert.ok(Math.abs(dq.scales[k] - plain.scales[k]) <= s2 * 16 + 1e-7, `scale ${k} within half an FP8 step`);
    }
  }
  assert.ok(Math.abs(bitsPerElement('nf4_dq', dq.granularity, [n]) - (4 + 8.125 / 64 + 32 / n)) < 1e-12);
  const ePlain = quantize(t, plain).metrics.sqnrDb, eDq = quantize(t, dq).metrics.sqnrDb;
  assert.ok(Math.abs(eDq - ePlain) < 1, `nf4 ${ePlain} dB, nf4_dq ${eDq} dB`);
});

test('log2 levels are s·2^-q plus zero, decided in the log domain; log√2 halves the exponent step', () => {
  const c = logCodec(3, 2, false);
  assert.deepEqual(Array.from(c.book), [0, 1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1]);
  // geometric midpoint between 1/2 and 1 is 1/√2: 0.70 → 1/2, 0.71 → 1
  assert.equal(c.decode[c.encode(0.70, 0)], 0.5);
  assert.equal(c.decode[c.encode(0.71, 0)], 1);
  assert.equal(c.decode[c.encode(1 / 200, 0)], 0);
  const r = logCodec(3, Math.SQRT2, false);
  assert.equal(r.book[r.book.length - 2], Math.fround(Math.SQRT1_2));
  const signed = logCodec(4, 2, true);
  assert.equal(signed.decode[signed.encode(-0.5, 0)], -0.5);
});

test('Tan compander: c→0 is uniform, larger c packs levels toward both ends; book follows the documented formula', () => {
  const u = tanCodec(3, 0, false);
  assert.deepEqual(Array.from(u.book), Array.from({ length: 8 }, (_, k) => Math.fround(k / 7)));
  const c = 8, L = 8, a = Math.atan(c);
  const t = tanCodec(3, c, false);
  for (let k = 0; k < L; k++) {
    const uh = (2 * k) / (L - 1) - 1;
    assert.ok(Math.abs(t.book[k] - (0.5 + Math.atan(c * uh) / (2 * a))) < 1e-6);
  }
  // first and last gaps smaller than the middle gap
  assert.ok(t.book[1] - t.book[0] < t.book[4] - t.book[3]);
  assert.ok(t.book[7] - t.book[6] < t.book[4] - t.book[3]);
  assert.equal(t.book[0], 0);
  assert.equal(t.book[7], 1);
  // decisions follow k = round((u + 1)/2 · (L − 1)) with u = tan((t − ½)·2·atan(c))/c
  for (let i = 0; i <= 1000; i++) {
    const x = i / 1000;
    const uu = Math.tan((x - 0.5) * 2 * a) / c;
    const k = Math.round(((uu + 1) / 2) * (L - 1));
    assert.equal(t.encode(x, 0), k, `t = ${x}`);
  }
});

test('binary is sign(W)·mean|W| and ternary is BitNet absmean round(W/mean|W|) clipped to {-1,0,1}', () => {
  const w = Float32Array.from([0.1, -0.4, 2.0, 0, -0.05, 0.3, -1.2, 0.6]);
  const t = { data: w, dims: [8] };
  const absmean = w.reduce((s, v) => s + Math.abs(v), 0) / w.length;
  const b = quantize(t, calibrate(t, { format: 'binary' }));
  assert.ok(Math.abs(b.params.scales[0] - absmean) < 1e-7);
  assert.deepEqual(Array.from(b.dequantized, Math.sign), [1, -1, 1, 1, -1, 1, -1, 1]);
  const tr = quantize(t, calibrate(t, { format: 'ternary' }));
  const s = tr.params.scales[0];
  assert.ok(Math.abs(s - absmean) < 1e-7);
  assert.deepEqual(Array.from(tr.codes), Array.from(w, (v) => Math.max(-1, Math.min(1, Math.round(v / s))) || 0));
  assert.equal(codecOf(tr.params).kind, 'int');
});

test('pow2 weights are ±s·2^-p or zero, nearest in the linear domain', () => {
  const x = Float32Array.from([1, 0.74, 0.76, -0.3, 0.001, -1]);
  const t = { data: x, dims: [6] };
  const r = quantize(t, calibrate(t, { format: 'pow2' }));
  assert.deepEqual(Array.from(r.dequantized), [1, 0.5, 1, -0.25, 0, -1]);
});

test('bucketed table search equals a linear reference for every table codec (thresholds, ties, doubles, extremes)', () => {
  const r = rng(99);
  for (const id of FORMAT_IDS) {
    for (const signed of [false, true]) {
      for (const v of familyRuntime(FORMATS[id], FORMATS[id].bits, signed).variants) {
        const c = v.codec;
        if (!(c instanceof TableCodec)) continue;
        const t = c.thresholds;
        const reference = (x: number) => {
          const a = c.signMagnitude ? Math.abs(x) : x;
          let i = 0;
          while (i < t.length && a > t[i]) i++;
          if (i < t.length && a === t[i] && (c.codes[i] & 1) === 1) i++;
          const code = c.codes[i];
          return c.signMagnitude && (x < 0 || Object.is(x, -0)) ? code | (1 << (c.bits - 1)) : code;
        };
        const probes: number[] = [0, -0, Infinity, -Infinity, 1e-45, 3e38, ...Array.from(t), ...Array.from(c.book)];
        for (const x of t) probes.push(Math.fround(x), x * (1 + 1e-12), x * (1 - 1e-12), -x);
        for (let i = 0; i < 400; i++) probes.push((r() - 0.3) * 2 * c.maxAbs * 1.2, Math.fround((r() - 0.3) * 2 * c.maxAbs) * 2 ** -Math.floor(r() * 20));
        for (const x of probes) assert.equal(c.encode(x, 0), reference(x), `${id} signed=${signed} x=${x}`);
      }
    }
  }
});
