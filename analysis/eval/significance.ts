// SPDX-License-Identifier: Apache-2.0
/**
 * Is a top-1 difference between two models on the same labelled samples real, or a few borderline samples flipping?
 * Both models see the same samples, so the right test is paired: only the discordant samples (right under one model,
 * wrong under the other) carry information, and under "no difference" each of them is a fair coin (McNemar's test,
 * exact binomial form — the chi-squared approximation is poor for the handful of discordant samples a quantized
 * model has).
 */

/** A paired top-1 comparison of model A against model B. */
export interface PairedTop1 {
  /** Samples A gets right and B gets wrong. */
  onlyA: number;
  /** Samples B gets right and A gets wrong. */
  onlyB: number;
  /** Two-sided exact McNemar p-value: the chance of a split at least this uneven if A and B were equally accurate. */
  pValue: number;
}

/**
 * Two-sided exact McNemar p-value for `b` and `c` discordant samples: 2·P(X ≤ min(b, c)), X ~ Binomial(b + c, ½),
 * capped at 1. Summed in log space so thousands of discordant samples do not underflow.
 */
export function mcnemarExactP(b: number, c: number): number {
  if (!(Number.isInteger(b) && Number.isInteger(c) && b >= 0 && c >= 0)) throw new RangeError(`discordant counts must be non-negative integers, got ${b} and ${c}`);
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  if (2 * k + 1 >= n) return 1; // the smaller count is at the middle: the tail holds at least half the mass
  const logHalfN = -n * Math.LN2;
  let logC = 0; // log C(n, 0)
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i);
    tail += Math.exp(logC + logHalfN);
  }
  return Math.min(1, 2 * tail);
}

/**
 * Compare two models from the indices of the samples each gets wrong (out of the same labelled samples, in the same
 * order): a sample missed by exactly one of them is discordant.
 */
export function pairedTop1(missesA: readonly number[], missesB: readonly number[]): PairedTop1 {
  const a = new Set(missesA), b = new Set(missesB);
  let onlyA = 0, onlyB = 0;
  for (const i of b) if (!a.has(i)) onlyA++;
  for (const i of a) if (!b.has(i)) onlyB++;
  return { onlyA, onlyB, pValue: mcnemarExactP(onlyA, onlyB) };
}

/** One line for a paired comparison, e.g. "2 samples only A, 1 only B; McNemar p = 1.00 (not significant at 0.05)". */
export function describePaired(p: PairedTop1, nameA: string, nameB: string): string {
  const verdict = p.pValue < 0.05 ? 'significant at 0.05' : 'not significant at 0.05';
  return `${p.onlyA} only ${nameA} right, ${p.onlyB} only ${nameB} right; McNemar p = ${p.pValue < 0.001 ? p.pValue.toExponential(1) : p.pValue.toFixed(3)} (${verdict})`;
}
