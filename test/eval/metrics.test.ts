// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputComparison, sqnrDb } from '../../analysis/eval/metrics';

test('identical logits: agreement 1, KL 0, infinite SQNR, cosine 1; accuracy from labels', () => {
  const c = new OutputComparison('logits');
  const x = Float32Array.of(1, 2, 0, 3, -1, 0);
  c.add(x, x, [2, 3], [1, 2]);
  const r = c.result();
  assert.equal(r.top1Agreement, 1);
  assert.equal(r.kl, 0);
  assert.equal(r.sqnrDb, Infinity);
  assert.equal(r.cosine, 1);
  assert.deepEqual(r.accuracy, { reference: 0.5, test: 0.5, samples: 2, referenceMisses: [1], testMisses: [1] });
});

test('KL matches a hand computation and disagreement is counted', () => {
  const c = new OutputComparison('logits');
  c.add(Float32Array.of(0, Math.log(3)), Float32Array.of(Math.log(3), 0), [1, 2], [1]);
  const r = c.result();
  // p = (1/4, 3/4), q = (3/4, 1/4): KL = 1/4 ln(1/3) + 3/4 ln 3 = ln(3)/2
  assert.ok(Math.abs((r.kl ?? 0) - Math.log(3) / 2) < 1e-6);
  assert.equal(r.top1Agreement, 0);
  assert.deepEqual(r.accuracy, { reference: 1, test: 0, samples: 1, referenceMisses: [], testMisses: [0] });
});

test('SQNR: noise at 1% of the signal power is 20 dB', () => {
  const ref = Float32Array.of(10, -10, 10, -10);
  const test = Float32Array.of(11, -11, 9, -9);
  assert.ok(Math.abs(sqnrDb(ref, test) - 20) < 1e-9);
});

test('class metrics say why they do not apply to a non-classifier output', () => {
  const c = new OutputComparison('features');
  c.add(Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 2, 3, 4.5), [1, 2, 2]);
  const r = c.result();
  assert.equal(r.top1Agreement, null);
  assert.equal(r.kl, null);
  assert.equal(r.accuracy, null);
  assert.match(r.notApplicable ?? '', /shape \[1, 2, 2\], not \[batch, classes\]/);
  assert.ok(Number.isFinite(r.sqnrDb) && r.maxAbsDiff === 0.5);
});

test('a [batch, classes, 1, 1] output (a final 1×1 conv) counts as a classifier', () => {
  const c = new OutputComparison('prob');
  c.add(Float32Array.of(0.1, 0.9, 0.8, 0.2), Float32Array.of(0.2, 0.8, 0.3, 0.7), [2, 2, 1, 1], [1, 0]);
  const r = c.result();
  assert.equal(r.top1Agreement, 0.5);
  assert.deepEqual(r.accuracy, { reference: 1, test: 0.5, samples: 2, referenceMisses: [], testMisses: [1] });
});

test('missed samples are indexed across batches, in eval order', () => {
  const c = new OutputComparison('logits');
  // batch 1: rows predict 0, 1; batch 2: rows predict 1, 0 (reference) vs 1, 1 (test)
  c.add(Float32Array.of(1, 0, 0, 1), Float32Array.of(1, 0, 0, 1), [2, 2], [0, 0]);
  c.add(Float32Array.of(0, 1, 1, 0), Float32Array.of(0, 1, 0, 1), [2, 2], [1, 0]);
  const r = c.result();
  assert.deepEqual(r.accuracy?.referenceMisses, [1]);
  assert.deepEqual(r.accuracy?.testMisses, [1, 3]);
});
