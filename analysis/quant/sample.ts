// SPDX-License-Identifier: Apache-2.0
/**
 * A calibration sample: either raw finite values (weights, small groups) or a histogram's bin centres with
 * their counts as weights (streamed activations, large tensors). Every calibration method reads only this,
 * so the same code serves tensors and streamed statistics.
 */
import { RunningHistogram } from './histogram';

export interface Sample {
  values: Float32Array | Float64Array;
  /** null = every value has weight 1. */
  weights: Float64Array | null;
  length: number;
  min: number;
  max: number;
  /** Sum of weights (= number of values represented). */
  total: number;
}

/** Above this many values, searches run on a histogram of the sample instead of the raw values. */
export const RAW_SEARCH_LIMIT = 1 << 16;

export function rawSample(values: Float32Array, length: number): Sample {
  let mn = Infinity, mx = -Infinity;
  for (let i = 0; i < length; i++) { const v = values[i]; if (v < mn) mn = v; if (v > mx) mx = v; }
  return { values, weights: null, length, min: length ? mn : 0, max: length ? mx : 0, total: length };
}

export function histogramSample(h: RunningHistogram): Sample {
  if (h.count === 0) return { values: new Float64Array(0), weights: null, length: 0, min: 0, max: 0, total: 0 };
  return { values: h.centers(), weights: Float64Array.from(h.counts), length: h.bins, min: h.min, max: h.max, total: h.count };
}

/** A histogram-backed sample for search when the raw sample is large. */
export function searchable(s: Sample): Sample {
  if (s.weights || s.length <= RAW_SEARCH_LIMIT) return s;
  const h = new RunningHistogram();
  h.add(s.values.subarray(0, s.length));
  return histogramSample(h);
}

export function absMean(s: Sample): number {
  let a = 0;
  const { values, weights } = s;
  for (let i = 0; i < s.length; i++) a += Math.abs(values[i]) * (weights ? weights[i] : 1);
  return s.total ? a / s.total : 0;
}

/** p-th percentile (0..100) of the values, or of |values| when `abs`; linear interpolation between ranks. */
export function samplePercentile(s: Sample, p: number, abs: boolean): number {
  if (s.total === 0) return 0;
  const n = s.length;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = abs ? Math.abs(s.values[i]) : s.values[i];
  if (!s.weights) {
    v.sort();
    const r = (p / 100) * (n - 1), i0 = Math.floor(r), i1 = Math.min(n - 1, i0 + 1);
    return v[i0] + (v[i1] - v[i0]) * (r - i0);
  }
  const order = Array.from(v.keys()).sort((a, b) => v[a] - v[b]);
  const target = (p / 100) * s.total;
  let acc = 0;
  for (const i of order) {
    acc += s.weights[i];
    if (acc >= target) return v[i];
  }
  return v[order[order.length - 1]];
}
