// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describePaired, mcnemarExactP, pairedTop1 } from '../../analysis/eval/significance';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('exact McNemar p-values match the binomial tail by hand', () => {
  assert.equal(mcnemarExactP(0, 0), 1, 'no discordant samples: no evidence either way');
  close(mcnemarExactP(0, 5), 2 / 32);
  close(mcnemarExactP(5, 0), 2 / 32);
  close(mcnemarExactP(10, 0), 2 / 1024);
  // 1 vs 6: 2 · (C(7,0) + C(7,1)) / 2^7 = 16/128
  close(mcnemarExactP(1, 6), 16 / 128);
  assert.equal(mcnemarExactP(1, 1), 1, 'capped at 1');
  assert.equal(mcnemarExactP(3, 2), 1);
});

test('thousands of discordant samples neither underflow nor lose symmetry', () => {
  const p = mcnemarExactP(2000, 2200);
  assert.ok(p > 0 && p < 0.01, `p ${p}`);
  close(p, mcnemarExactP(2200, 2000));
  close(mcnemarExactP(3000, 3000), 1);
});

test('rejects counts that are not non-negative integers', () => {
  assert.throws(() => mcnemarExactP(-1, 2), /non-negative integers/);
  assert.throws(() => mcnemarExactP(1.5, 2), /non-negative integers/);
});

test('paired comparison counts only the discordant samples', () => {
  // A misses 1, 4, 7; B misses 4, 8, 9: B alone misses 8, 9 (A right), A alone misses 1, 7 (B right)
  const p = pairedTop1([1, 4, 7], [4, 8, 9]);
  assert.deepEqual({ onlyA: p.onlyA, onlyB: p.onlyB }, { onlyA: 2, onlyB: 2 });
  assert.equal(p.pValue, 1);
  const lopsided = pairedTop1([], [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual({ onlyA: lopsided.onlyA, onlyB: lopsided.onlyB }, { onlyA: 8, onlyB: 0 });
  close(lopsided.pValue, 2 / 256);
  assert.match(describePaired(lopsided, 'FP32', 'quantized'), /^8 only FP32 right, 0 only quantized right; McNemar p = 0\.008 \(significant at 0\.05\)$/);
  assert.match(describePaired(p, 'W4A8', 'suggested'), /not significant at 0\.05/);
});
