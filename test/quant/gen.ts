// SPDX-License-Identifier: Apache-2.0
/** Deterministic test data for the quantizer tests (seeded, no Math.random). */

import { rng } from '../rng';

export { rng };

/** n standard-normal float32 values. */
export function normal(n: number, seed = 1, sigma = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sigma * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

/** Rows of softmax probabilities (power-law-like, non-negative, summing to 1 per row). */
export function softmaxRows(rows: number, cols: number, seed = 2, temperature = 3): Float32Array {
  const z = normal(rows * cols, seed, temperature);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity, s = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, z[r * cols + c]);
    for (let c = 0; c < cols; c++) s += Math.exp(z[r * cols + c] - m);
    for (let c = 0; c < cols; c++) out[r * cols + c] = Math.exp(z[r * cols + c] - m) / s;
  }
  return out;
}

/** Bit-level equality of two float32 arrays (distinguishes −0 from +0; NaN equals NaN). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i] && !(a[i] !== a[i] && b[i] !== b[i])) return false;
  return true;
}
