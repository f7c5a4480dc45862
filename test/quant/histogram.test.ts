// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunningHistogram } from '../../analysis/quant/histogram';
import { normal } from './gen';

const total = (h: RunningHistogram) => h.counts.reduce((a, b) => a + b, 0);

test('streaming batches with growing range keeps every count, exact min/max and moments', () => {
  const h = new RunningHistogram();
  const all: number[] = [];
  for (let b = 0; b < 6; b++) {
    const batch = normal(5000, 20 + b, 1 + 3 * b); // range grows batch by batch, both sides
    h.add(batch);
    all.push(...batch);
  }
  assert.equal(h.count, all.length);
  assert.equal(total(h), all.length);
  assert.equal(h.min, Math.min(...all));
  assert.equal(h.max, Math.max(...all));
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  assert.ok(Math.abs(h.mean - mean) < 1e-9);
  assert.equal(h.edges.length, h.bins + 1);
  // every value lies in its bin's edges: the edges cover [min, max]
  assert.ok(h.edges[0] <= h.min && h.edges[h.bins] >= h.max);
});

test('percentiles agree with exact order statistics within one bin width', () => {
  const x = normal(100000, 4);
  const h = new RunningHistogram(2048).add(x);
  const sorted = Float64Array.from(x).sort();
  const width = h.edges[1] - h.edges[0];
  for (const p of [0.1, 1, 25, 50, 75, 99, 99.9, 99.99]) {
    const exact = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
    assert.ok(Math.abs(h.percentile(p) - exact) <= 1.01 * width, `p${p}: ${h.percentile(p)} vs ${exact}`);
  }
  assert.equal(h.percentile(0), h.min);
  assert.equal(h.percentile(100), h.max);
});

test('NaN/Inf are counted and never binned; an all-non-finite batch leaves the histogram empty', () => {
  const h = new RunningHistogram(64);
  h.add(Float32Array.from([NaN, Infinity, -Infinity]));
  assert.equal(h.count, 0);
  assert.equal(h.nanCount, 1);
  assert.equal(h.infCount, 2);
  h.add(Float32Array.from([1, NaN, 2, Infinity]));
  assert.equal(h.count, 2);
  assert.equal(total(h), 2);
  assert.equal(h.min, 1);
  assert.equal(h.max, 2);
  assert.equal(h.nanCount, 2);
  assert.equal(h.infCount, 3);
});

test('a constant stream, then a wider one, still bins exactly', () => {
  const h = new RunningHistogram(128);
  h.add(new Float32Array(100).fill(3));
  h.add(Float32Array.from([3, 3]));
  assert.equal(total(h), 102);
  assert.equal(h.percentile(50), 3);
  h.add(Float32Array.from([-10, 50]));
  assert.equal(total(h), 104);
  assert.equal(h.min, -10);
  assert.equal(h.max, 50);
});

test('merge equals adding the union; JSON round trip is lossless', () => {
  const a = normal(20000, 31, 1), b = normal(20000, 32, 5);
  const ha = new RunningHistogram().add(a), hb = new RunningHistogram().add(b);
  const hu = new RunningHistogram().add(a).add(b);
  ha.merge(hb);
  assert.equal(ha.count, 40000);
  assert.ok(Math.abs(total(ha) - 40000) < 1e-6);
  assert.equal(ha.min, hu.min);
  assert.equal(ha.max, hu.max);
  const w = ha.edges[1] - ha.edges[0];
  for (const p of [1, 50, 99]) assert.ok(Math.abs(ha.percentile(p) - hu.percentile(p)) <= 2 * w);
  const back = RunningHistogram.fromJSON(JSON.parse(JSON.stringify(ha.toJSON())));
  assert.deepEqual(back.toJSON(), ha.toJSON());
  const empty = RunningHistogram.fromJSON(JSON.parse(JSON.stringify(new RunningHistogram(8).toJSON())));
  assert.equal(empty.count, 0);
  empty.add(Float32Array.of(5));
  assert.equal(empty.min, 5);
});
