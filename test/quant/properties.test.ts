// SPDX-License-Identifier: Apache-2.0
// Property tests that sweep THE format table: a new row is tested without touching this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMATS, FORMAT_IDS } from '../../analysis/quant/formats';
import { calibrate } from '../../analysis/quant/calibrate';
import { quantize } from '../../analysis/quant/quantize';
import { dequantizeRecord, toEngineWeight } from '../../analysis/quant/toEngine';
import { normal, sameBits } from './gen';

const DIMS = [8, 128];
const data = normal(DIMS[0] * DIMS[1], 7);

for (const id of FORMAT_IDS) {
  const f = FORMATS[id];
  test(`${id}: idempotent, monotonic, on the grid, within tolerance, engine record bit-exact`, () => {
    const t = { data, dims: DIMS };
    const p = calibrate(t, { format: id });
    const r = quantize(t, p);
    // idempotence: quantizing the dequantized tensor again changes nothing
    const again = quantize({ data: r.dequantized, dims: DIMS }, p);
    assert.ok(sameBits(again.dequantized, r.dequantized), 'Q(Q(x)) = Q(x)');
    assert.deepEqual(again.codes, r.codes);
    // tolerance (as data in the table): relative RMS error on N(0,1)
    const rel = Math.sqrt(r.metrics.mse);
    assert.ok(rel <= f.tolerance, `relative RMS ${rel} > tolerance ${f.tolerance}`);
    assert.ok(r.metrics.cosine > 0.5 && r.metrics.cosine <= 1 + 1e-12);
    // the engine record decodes to exactly our dequantized values
    const rec = toEngineWeight(r, undefined, DIMS);
    assert.ok(sameBits(dequantizeRecord(rec), r.dequantized), 'engine record reproduces dequantized');
    assert.equal(rec.codes.length, data.length);
    for (const c of rec.codes) {
      assert.ok(rec.signed ? c >= -(2 ** (rec.bits - 1)) && c < 2 ** (rec.bits - 1) : c >= 0 && c < 2 ** rec.bits, `code ${c} fits ${rec.bits} bits`);
    }
  });

  test(`${id}: sorted input gives sorted output, every output on the grid`, () => {
    // one row of 32: the first scale group is the whole tensor for every granularity default
    const row = Float32Array.from(normal(32, 11)).sort();
    const t = { data: row, dims: [1, 32] };
    const r = quantize(t, calibrate(t, { format: id }));
    for (let i = 1; i < row.length; i++) assert.ok(r.dequantized[i] >= r.dequantized[i - 1], `monotonic at ${i}`);
    const grid = new Set(r.grid);
    for (const y of r.dequantized) assert.ok(grid.has(y), `${y} on the grid`);
    for (let i = 1; i < r.grid.length; i++) assert.ok(r.grid[i] > r.grid[i - 1], 'grid strictly ascending');
    assert.equal(r.clipRange[0], r.grid[0]);
    assert.equal(r.clipRange[1], r.grid[r.grid.length - 1]);
  });
}

test('INT: |x − Q(x)| ≤ step/2 inside the range, for every width, both signs, sym and asym', () => {
  for (const id of FORMAT_IDS.filter((i) => FORMATS[i].family === 'int')) {
    for (const symmetric of [true, false]) {
      const t = { data, dims: DIMS };
      const r = quantize(t, calibrate(t, { format: id, symmetric, granularity: { kind: 'channel', axis: 0 } }));
      for (let i = 0; i < data.length; i++) {
        const ch = Math.floor(i / DIMS[1]);
        const s = r.params.scales[ch], z = r.params.zeroPoints ? r.params.zeroPoints[ch] : 0;
        const qmin = FORMATS[id].signedness === 'signed' ? -(2 ** (FORMATS[id].bits - 1)) : 0;
        const qmax = qmin + 2 ** FORMATS[id].bits - 1;
        const lo = (qmin - z) * s, hi = (qmax - z) * s;
        if (data[i] < lo || data[i] > hi) continue;
        assert.ok(Math.abs(data[i] - r.dequantized[i]) <= s / 2 * (1 + 1e-6), `${id} sym=${symmetric} at ${i}`);
      }
      // symmetric min-max never clips; asymmetric may cut < step/2 at one end because the zero point is rounded
      if (symmetric) assert.equal(r.metrics.clipFraction, 0, `${id} min-max never clips`);
    }
  }
});

test('NaN and Inf are counted, excluded from calibration and metrics; Inf saturates', () => {
  const x = Float32Array.from([0.5, -1, NaN, 2, Infinity, -Infinity, 0.25, NaN]);
  const t = { data: x, dims: [8] };
  const p = calibrate(t, { format: 'int8' });
  assert.equal(p.nanCount, 2);
  assert.equal(p.infCount, 2);
  // scale = amax/127 from the finite values only (rounded up to float32 so ±2 stays representable)
  assert.ok(Math.abs(p.scales[0] - 2 / 127) < 1e-8 && p.scales[0] * 127 >= 2, `scale ${p.scales[0]}`);
  const r = quantize(t, p);
  assert.equal(r.metrics.nanCount, 2);
  assert.equal(r.metrics.infCount, 2);
  assert.equal(r.metrics.count, 4);
  assert.equal(r.codes[2], 0);
  assert.equal(r.codes[4], 127);
  assert.equal(r.codes[5], -128);
  assert.ok(Number.isFinite(r.metrics.mse) && Number.isFinite(r.metrics.sqnrDb));
});

test('empty and constant tensors work for every format', () => {
  for (const id of FORMAT_IDS) {
    const empty = { data: new Float32Array(0), dims: [0, 32] };
    const re = quantize(empty, calibrate(empty, { format: id }));
    assert.equal(re.codes.length, 0, id);
    assert.equal(re.metrics.count, 0, id);
    for (const c of [0, 3.5, -2]) {
      const t = { data: new Float32Array(64).fill(c), dims: [2, 32] };
      const r = quantize(t, calibrate(t, { format: id }));
      assert.ok(r.params.scales.every((s) => s > 0 && Number.isFinite(s)), `${id} scales positive for constant ${c}`);
      assert.ok(r.dequantized.every((v) => Number.isFinite(v)), id);
      if (c === 0 && FORMATS[id].family !== 'binary') assert.equal(r.metrics.mse, 0, `${id} represents an all-zero tensor exactly`);
    }
  }
});
