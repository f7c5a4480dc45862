// SPDX-License-Identifier: Apache-2.0
/**
 * Weight and activation statistics (analysis/report.ts TensorStats): moments in float64, NaN/Inf counted and
 * excluded from every moment, per-output-channel range ratio and outlier channels, plus a histogram helper.
 * Medians over more than MEDIAN_EXACT_LIMIT values use a fixed strided sample (deterministic, ≤ 1/2^20 of
 * the values), which is precise enough for ratios and keeps big tensors at O(n).
 */
import type { Histogram, TensorStats } from '../report';

type Numeric = ArrayLike<number> | ArrayLike<bigint>;

const FLT_MIN_NORMAL = 1.1754943508222875e-38;
const MEDIAN_EXACT_LIMIT = 1 << 22;
/** A channel is an outlier when its range exceeds this multiple of the median channel range. */
export const OUTLIER_CHANNEL_FACTOR = 8;
const MAX_OUTLIER_CHANNELS = 64;

function asNumbers(data: Numeric): ArrayLike<number> {
  const first = data.length ? data[0] : 0;
  return typeof first === 'bigint' ? Float64Array.from(data as ArrayLike<bigint>, Number) : (data as ArrayLike<number>);
}

/** Median of the finite mapped values (map may return NaN to skip one; sampled above MEDIAN_EXACT_LIMIT); NaN for none. */
export function median(values: ArrayLike<number>, map: (x: number) => number = (x) => x): number {
  const step = Math.max(1, Math.ceil(values.length / MEDIAN_EXACT_LIMIT));
  const buf = new Float64Array(Math.ceil(values.length / step));
  let k = 0;
  for (let i = 0; i < values.length; i += step) {
    const m = map(values[i]);
    if (Number.isFinite(m)) buf[k++] = m;
  }
  if (k === 0) return NaN;
  const s = buf.subarray(0, k).sort();
  return k % 2 ? s[(k - 1) / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

/** Range (max − min of finite values) of each slice along `axis`. */
export function channelRanges(data: ArrayLike<number>, dims: readonly number[], axis: number): Float64Array {
  const channels = dims[axis] ?? 1;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const lo = new Float64Array(channels).fill(Infinity);
  const hi = new Float64Array(channels).fill(-Infinity);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    const c = Math.floor(i / inner) % channels;
    if (v < lo[c]) lo[c] = v;
    if (v > hi[c]) hi[c] = v;
  }
  return lo.map((l, c) => (Number.isFinite(l) ? hi[c] - l : 0));
}

/**
 * Statistics of a tensor. With `dims` and `channelAxis`, channelRangeRatio and outlierChannels are computed
 * over that axis (1 / none when per-tensor).
 */
export function tensorStats(raw: Numeric, dims?: readonly number[], channelAxis?: number): TensorStats {
  const data = asNumbers(raw);
  const n = data.length;
  let count = 0, nan = 0, inf = 0, zeros = 0, denormal = 0, absBeyond6 = 0;
  let min = Infinity, max = -Infinity, sum = 0, maxAbs = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (Number.isNaN(v)) { nan++; continue; }
    if (!Number.isFinite(v)) { inf++; continue; }
    count++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    if (v === 0) zeros++;
    else if (a < FLT_MIN_NORMAL) denormal++;
    if (a >= 6) absBeyond6++;
  }
  const mean = count ? sum / count : 0;
  let m2 = 0, m4 = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    const d = v - mean;
    const d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
  }
  const variance = count ? m2 / count : 0;
  const std = Math.sqrt(variance);
  const kurtosis = variance > 0 ? m4 / count / (variance * variance) : 0;
  let beyond = 0;
  if (std > 0) {
    const t = 6 * std;
    for (let i = 0; i < n; i++) { const v = data[i]; if (Number.isFinite(v) && Math.abs(v - mean) > t) beyond++; }
  }
  let medAbs = median(data, Math.abs);
  if (medAbs === 0) medAbs = median(data, (v) => (v === 0 ? NaN : Math.abs(v)));
  const stats: TensorStats = {
    count, min: count ? min : 0, max: count ? max : 0, mean, std, kurtosis,
    beyond6Sigma: count ? beyond / count : 0,
    zeroFraction: n ? zeros / n : 0,
    channelRangeRatio: 1,
    nanCount: nan, infCount: inf, denormalCount: denormal,
    maxOverMedian: medAbs > 0 ? maxAbs / medAbs : maxAbs > 0 ? Number.MAX_VALUE : 1,
    absBeyond6: count ? absBeyond6 / count : 0,
  };
  if (dims && channelAxis !== undefined && dims.length > 1 && (dims[channelAxis] ?? 1) > 1) {
    const ranges = channelRanges(data, dims, channelAxis);
    const med = median(ranges);
    const top = ranges.reduce((a, b) => Math.max(a, b), 0);
    const smallestPositive = ranges.reduce((a, b) => (b > 0 && b < a ? b : a), Infinity);
    stats.channelRangeRatio = med > 0 ? top / med : top > 0 ? top / smallestPositive : 1;
    const outliers: number[] = [];
    ranges.forEach((r, c) => { if (med > 0 ? r > OUTLIER_CHANNEL_FACTOR * med : r > 0) outliers.push(c); });
    if (outliers.length && outliers.length < ranges.length) stats.outlierChannels = outliers.slice(0, MAX_OUTLIER_CHANNELS);
  }
  return stats;
}

/** Histogram of finite values over [lo, hi] (default: their min..max) with `bins` equal bins. */
export function histogram(raw: Numeric, bins = 64, range?: [number, number]): Histogram {
  const data = asNumbers(raw);
  let lo = range?.[0] ?? Infinity, hi = range?.[1] ?? -Infinity;
  if (!range) for (let i = 0; i < data.length; i++) { const v = data[i]; if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; } }
  if (!Number.isFinite(lo)) { lo = 0; hi = 0; }
  if (hi === lo) { lo -= 0.5; hi += 0.5; }
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v) || v < lo || v > hi) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * width), counts };
}
