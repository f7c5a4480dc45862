// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogram, median, tensorStats } from './tensorStats';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);

test('moments of a small tensor are exact (float64 accumulation)', () => {
  const s = tensorStats(Float32Array.of(1, 2, 3, 4));
  assert.equal(s.count, 4);
  assert.equal(s.min, 1);
  assert.equal(s.max, 4);
  close(s.mean, 2.5);
  close(s.std, Math.sqrt(1.25));
  close(s.kurtosis, 2.5625 / 1.5625);
  assert.equal(s.zeroFraction, 0);
});

test('NaN and Inf are counted and excluded from every moment', () => {
  const s = tensorStats(Float32Array.of(1, NaN, 3, Infinity, -Infinity, 0));
  assert.equal(s.nanCount, 1);
  assert.equal(s.infCount, 2);
  assert.equal(s.count, 3);
  close(s.mean, 4 / 3);
  assert.equal(s.max, 3);
  close(s.zeroFraction, 1 / 6);
});

test('denormals, |x| ≥ 6 and max/median are reported', () => {
  const s = tensorStats(Float32Array.of(1e-40, 1, 1, 1, 12));
  assert.equal(s.denormalCount, 1);
  close(s.absBeyond6!, 1 / 5);
  close(s.maxOverMedian!, 12);
});

test('a normal sample has kurtosis ≈ 3; one planted outlier is beyond 6σ', () => {
  let seed = 7;
  const rnd = () => { // mulberry32
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 2 ** 32;
  };
  const n = 200_000;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(rnd())), t = 2 * Math.PI * rnd();
    x[i] = r * Math.cos(t);
    x[i + 1] = r * Math.sin(t);
  }
  const s = tensorStats(x);
  close(s.kurtosis, 3, 0.05);
  close(s.std, 1, 0.01);
  x[0] = 50;
  assert.ok(tensorStats(x).beyond6Sigma >= 1 / n);
});

test('per-channel range ratio and outlier channels along the given axis', () => {
  // 4 channels × 2: ranges 1, 1, 1, 20 → median 1, ratio 20, channel 3 is an outlier
  const w = Float32Array.of(0, 1, 0, 1, 0, 1, -10, 10);
  const s = tensorStats(w, [4, 2], 0);
  close(s.channelRangeRatio, 20);
  assert.deepEqual(s.outlierChannels, [3]);
  assert.equal(tensorStats(w).channelRangeRatio, 1);
});

test('constant, all-zero and empty tensors give finite statistics', () => {
  for (const data of [new Float32Array(10).fill(3), new Float32Array(10), new Float32Array(0)]) {
    const s = tensorStats(data, [data.length ? 2 : 0, data.length / 2], 0);
    for (const v of Object.values(s)) if (typeof v === 'number') assert.ok(Number.isFinite(v), JSON.stringify(s));
    assert.equal(s.std, 0);
  }
});

test('int64 data is accepted', () => {
  const s = tensorStats(BigInt64Array.of(1n, 2n, 3n));
  close(s.mean, 2);
});

test('histogram counts every finite value once, including the max', () => {
  const h = histogram(Float32Array.of(0, 0.5, 1, NaN, 1), 4);
  assert.equal(h.edges.length, 5);
  assert.deepEqual(h.counts, [1, 0, 1, 2]);
  assert.equal(median(Float32Array.of(3, 1, 2, NaN)), 2);
});
