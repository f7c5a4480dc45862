// SPDX-License-Identifier: Apache-2.0
// Requantization: the integer dyadic form (24-bit multiplier + shift with f32-style rounding) equals the
// onnxruntime float form on every accumulator; the common Q31 fixed-point form stays within one code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dyadicFromScale, q31FromScale, requantizeDyadic, requantizeFloat, requantizeQ31, roundHalfEven } from '../../../engine/kernels/requant';
import { randInt, rng } from './rng';

test('roundHalfEven rounds ties to even like nearbyintf', () => {
  assert.deepEqual([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999, -3.5001].map(roundHalfEven), [-2, -2, -0, 0, 2, 2, 2, -4]);
});

test('dyadic integer requantization equals the float requantization bit for bit', () => {
  const r = rng(21);
  let q31Diff = 0;
  for (let t = 0; t < 20000; t++) {
    const mult = Math.fround(10 ** (-1 - r() * 6));
    const big = t % 4 === 0;
    const acc = big ? randInt(r, -(2 ** 31), 2 ** 31 - 1) : randInt(r, -(2 ** 20), 2 ** 20);
    const zy = randInt(r, -10, 10);
    const d = dyadicFromScale(mult);
    assert.equal(d.multiplier * 2 ** -d.shift, mult);
    const want = requantizeFloat(acc, mult, zy, -128, 127);
    assert.equal(requantizeDyadic(acc, d, zy, -128, 127), want, `acc=${acc} mult=${mult}`);
    const q = requantizeQ31(acc, q31FromScale(mult), zy, -128, 127);
    assert.ok(Math.abs(q - want) <= 1, `Q31 acc=${acc} mult=${mult}: ${q} vs ${want}`);
    if (q !== want) q31Diff++;
  }
  assert.ok(q31Diff < 20000);
});

test('dyadic requantization reproduces f32 double rounding where a single rounding would not', () => {
  // the exact product acc·M·2^−e rounded once differs from onnxruntime's (f32 product, then nearest) on some
  // accumulators; the dyadic form must follow onnxruntime on all of them
  const r = rng(22);
  let singleDiffers = 0;
  for (let t = 0; t < 200000; t++) {
    const mult = Math.fround(1e-3 + r() * 0.2);
    const acc = randInt(r, 1 << 24, 2 ** 31 - 1);
    const d = dyadicFromScale(mult);
    const want = requantizeFloat(acc, mult, 0, -(2 ** 30), 2 ** 30);
    assert.equal(requantizeDyadic(acc, d, 0, -(2 ** 30), 2 ** 30), want);
    const p = BigInt(acc) * BigInt(d.multiplier), s = BigInt(d.shift);
    const q = p >> s, rem = p - (q << s), half = 1n << (s - 1n);
    const single = Number(rem > half || (rem === half && (q & 1n) === 1n) ? q + 1n : q);
    if (single !== want) singleDiffers++;
  }
  assert.ok(singleDiffers > 0, 'some accumulators need the f32 double rounding');
});
