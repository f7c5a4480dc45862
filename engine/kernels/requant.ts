// SPDX-License-Identifier: Apache-2.0
/**
 * Requantization of int32 accumulators to 8-bit output codes.
 *
 * onnxruntime (MlasRequantizeOutput, used by QLinearConv and QLinearMatMul) requantizes in float:
 *   mult = fround(fround(sa·sw) / sy);  y = nearest_even(clamp(fround(f32(acc)·mult))) + zy.
 * Bit-exactness with it therefore needs the same double rounding. Written as a dyadic number
 * (HAWQ-V3: mult = M·2^−e with the 24-bit mantissa M), the same result in pure integer arithmetic is
 *   y = rne_shift(round24(round24(acc)·M), e) + zy,
 * where round24 rounds to 24 significant bits (what f32 does). A plain (acc·M + 2^(e−1)) >> e skips the
 * inner round24 and differs by one code on ties that f32 rounding creates; so do the usual Q31 multipliers.
 * The kernels use the float form (one f32 multiply, identical results); requantizeDyadic proves the
 * integer equivalence in the tests and serves integer-only targets.
 */

const f = Math.fround;

/** Rounds to the nearest integer, ties to even (IEEE roundTiesToEven, as nearbyintf / f32.nearest). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The float requantization multiplier exactly as onnxruntime computes it: fround(fround(sa·sw)/sy). */
export function requantMultiplier(sa: number, sw: number, sy: number): number {
  return f(f(f(sa) * f(sw)) / f(sy));
}

/** onnxruntime's float requantization of one accumulator (bias already added). */
export function requantizeFloat(acc: number, mult: number, zy: number, qmin: number, qmax: number): number {
  let v = f(f(acc) * mult);
  v = Math.min(Math.max(v, qmin - zy), qmax - zy);
  return roundHalfEven(v) + zy;
}

/** A dyadic multiplier: value = multiplier · 2^−shift, multiplier a 24-bit integer (f32 mantissa). */
export interface Dyadic {
  multiplier: number;
  shift: number;
}

/** The exact dyadic form of a positive, normal f32 multiplier. */
export function dyadicFromScale(scale: number): Dyadic {
  const s = f(scale);
  if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`requantization scale must be positive and finite, got ${scale}`);
  let shift = 0;
  let m = s;
  while (m >= 2 ** 24) { m /= 2; shift--; }
  while (m < 2 ** 23) { m *= 2; shift++; }
  return { multiplier: m, shift };
}

/** Rounds |v| to 24 significant bits, ties to even (f32's rounding of an integer), keeping the sign. */
function round24(v: bigint): bigint {
  const neg = v < 0n;
  let a = neg ? -v : v;
  const bits = a.toString(2).length;
  if (bits > 24) {
    const drop = BigInt(bits - 24);
    a = rneShift(a, drop) << drop;
  }
  return neg ? -a : a;
}

/** a / 2^s rounded to nearest, ties to even, for a ≥ 0. */
function rneShift(a: bigint, s: bigint): bigint {
  if (s <= 0n) return a << -s;
  const q = a >> s;
  const rem = a - (q << s);
  const half = 1n << (s - 1n);
  return rem > half || (rem === half && (q & 1n) === 1n) ? q + 1n : q;
}

/** Integer-only requantization equal to requantizeFloat for every int32 accumulator (normal-range results). */
export function requantizeDyadic(acc: number, d: Dyadic, zy: number, qmin: number, qmax: number): number {
  const p = round24(round24(BigInt(acc)) * BigInt(d.multiplier));
  const neg = p < 0n;
  const mag = rneShift(neg ? -p : p, BigInt(d.shift));
  const y = Number(neg ? -mag : mag);
  return Math.min(Math.max(y, qmin - zy), qmax - zy) + zy;
}

/** gemmlowp/TFLite-style Q31 multiplier and right shift, the common fixed-point alternative (≠ ORT by ≤ 1). */
export function q31FromScale(scale: number): { q31: number; rightShift: number } {
  const d = dyadicFromScale(scale);
  // multiplier·2^−shift = (multiplier·2^7)·2^−31 · 2^(31−7−shift)
  return { q31: d.multiplier * 128, rightShift: d.shift - 24 };
}

/** SaturatingRoundingDoublingHighMul + RoundingDivideByPOT, as in gemmlowp (round half away from zero). */
export function requantizeQ31(acc: number, q: { q31: number; rightShift: number }, zy: number, qmin: number, qmax: number): number {
  const prod = BigInt(acc) * BigInt(q.q31);
  const nudge = prod >= 0n ? 1n << 30n : 1n - (1n << 30n);
  let x = (prod + nudge) / (1n << 31n);
  if (q.rightShift > 0) {
    const s = BigInt(q.rightShift);
    const mask = (1n << s) - 1n;
    const rem = ((x % (1n << s)) + (1n << s)) & mask;
    const threshold = (mask >> 1n) + (x < 0n ? 1n : 0n);
    x = (x >> s) + (rem > threshold ? 1n : 0n);
  } else if (q.rightShift < 0) {
    x <<= BigInt(-q.rightShift);
  }
  return Math.min(Math.max(Number(x) + zy, qmin), qmax);
}
