// SPDX-License-Identifier: Apache-2.0
/**
 * Level books of the non-uniform families, built from their defining formulas (no hand-typed tables
 * except NF4, whose 16 values are QLoRA's published constants). Every level is float32-exact so the decode
 * table the engine receives reproduces our dequantized values bit for bit.
 */
import type { MinifloatSpec } from './formats';
import { TableCodec } from './codec';

const f32 = Math.fround;

/** Magnitude of minifloat code m (sign bit excluded); NaN for NaN/Inf patterns (Infinity for IEEE Inf). */
export function minifloatMagnitude(spec: MinifloatSpec, m: number): number {
  const mantMask = (1 << spec.man) - 1;
  const e = m >> spec.man, f = m & mantMask;
  const eMax = (1 << spec.exp) - 1;
  if (spec.special === 'ieee' && e === eMax) return f === 0 ? Infinity : NaN;
  if (spec.special === 'fn' && e === eMax && f === mantMask) return NaN;
  if (e === 0) return spec.subnormals ? 2 ** (1 - spec.bias) * (f / 2 ** spec.man) : (f === 0 ? 0 : NaN);
  return 2 ** (e - spec.bias) * (1 + f / 2 ** spec.man);
}

/** Largest finite magnitude of a minifloat. */
export function minifloatMax(spec: MinifloatSpec): number {
  let best = 0;
  for (let m = 0; m < 1 << (spec.exp + spec.man); m++) {
    const v = minifloatMagnitude(spec, m);
    if (Number.isFinite(v) && v > best) best = v;
  }
  return best;
}

/** Sign-magnitude codec of a minifloat: magnitude codes are ordered like their values, so ties go to even mantissa. */
export function minifloatCodec(spec: MinifloatSpec): TableCodec {
  const bits = 1 + spec.exp + spec.man;
  const book: number[] = [], codes: number[] = [];
  for (let m = 0; m < 1 << (spec.exp + spec.man); m++) {
    const v = minifloatMagnitude(spec, m);
    if (Number.isFinite(v)) { book.push(v); codes.push(m); }
  }
  const codec = TableCodec.nearest(bits, Float64Array.from(book), Int32Array.from(codes), true);
  // IEEE formats keep their Inf patterns decodable (never produced while saturating).
  for (let m = 0; m < 1 << (spec.exp + spec.man); m++) {
    const v = minifloatMagnitude(spec, m);
    if (v === Infinity) { codec.decode[m] = Infinity; codec.decode[m | (1 << (bits - 1))] = -Infinity; }
  }
  return codec;
}

/** QLoRA NormalFloat4 code book (bitsandbytes constants), codes 0..15 in ascending order. */
export const NF4_LEVELS: readonly number[] = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
  -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
  0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
  0.7229568362236023, 1.0,
];

export function nf4Codec(): TableCodec {
  return TableCodec.nearest(4, Float64Array.from(NF4_LEVELS, f32), Int32Array.from(NF4_LEVELS.keys()), false);
}

/**
 * Logarithmic book: magnitudes base^-q for q = 0..M−2 and 0 (code M−1), M = 2^(bits − sign bit).
 * Decisions are made in the log domain (geometric midpoints: round(−log_base(x)) exactly), and a value
 * below half the smallest level goes to zero. `nearest` uses arithmetic midpoints instead (pow2 weights).
 */
export function logCodec(bits: number, base: number, signed: boolean, nearest = false): TableCodec {
  const m = 2 ** (signed ? bits - 1 : bits);
  const mags: number[] = [0];
  const codes: number[] = [m - 1];
  for (let q = m - 2; q >= 0; q--) { mags.push(f32(base ** -q)); codes.push(q); }
  const book = Float64Array.from(mags);
  const t = new Float64Array(book.length - 1);
  for (let i = 0; i < t.length; i++) {
    t[i] = i === 0 || nearest ? (book[i] + book[i + 1]) / 2 : Math.sqrt(book[i] * book[i + 1]);
  }
  return new TableCodec(bits, book, Int32Array.from(codes), t, signed);
}

/**
 * TanQ-style compander on t ∈ [0, 1] (shipped formula, see docs/quantizers.md):
 *   u = tan((t − ½)·2·atan(c)) / c ∈ [−1, 1],  k = round((u + 1)/2 · (L − 1)),  û = 2k/(L − 1) − 1,
 *   t̂ = ½ + atan(c·û) / (2·atan(c)).
 * c → 0 is the uniform grid; larger c packs levels near 0 and near 1. Thresholds are t(û) at the midpoints
 * of consecutive û, i.e. exactly the rounding in the u domain. For signed tensors the same book is used on
 * [−clip, clip] as 2t̂ − 1 (levels symmetric about 0).
 */
export function tanCodec(bits: number, c: number, signed: boolean): TableCodec {
  const L = 2 ** bits;
  const a = Math.atan(c);
  const inv = (u: number) => (c < 1e-9 ? (u + 1) / 2 : 0.5 + Math.atan(c * u) / (2 * a));
  const map = (t: number) => (signed ? 2 * t - 1 : t);
  const book = new Float64Array(L), t = new Float64Array(L - 1);
  for (let k = 0; k < L; k++) book[k] = f32(map(inv((2 * k) / (L - 1) - 1)));
  // Pin the ends exactly (atan round-off must not move the clip level).
  book[0] = signed ? -1 : 0; book[L - 1] = 1;
  for (let k = 0; k < L - 1; k++) t[k] = map(inv((2 * k + 1) / (L - 1) - 1));
  return new TableCodec(bits, book, Int32Array.from(book.keys()), t, false);
}

/** Binary: code 0 = +1, code 1 = −1 (a sign bit); exactly 0 goes to +1. */
export function binaryCodec(): TableCodec {
  return new TableCodec(1, Float64Array.from([-1, 1]), Int32Array.from([1, 0]), Float64Array.from([0]), false);
}
