// SPDX-License-Identifier: Apache-2.0
/**
 * Outlier metrics of one tensor (weights or activations) from its streamed accumulator: kurtosis, max/|median|,
 * the fraction beyond 6σ and beyond |x| ≥ 6 (the LLM.int8 threshold), per-channel range disparity and the
 * indices of outlier channels. Tail fractions come from the ≥ 2048-bin histogram (exact up to one bin).
 */
import type { TensorStats } from '../report';
import type { ActivationAccumulator } from '../activations/accumulator';
import type { RunningHistogram } from '../quant/histogram';

import { OUTLIER_CHANNEL_FACTOR } from '../stats/tensorStats';

// the outlier-channel rule is the weight statistics' one (analysis/stats/tensorStats.ts), so weights and
// activations are judged alike
export { OUTLIER_CHANNEL_FACTOR };
/** At most this many outlier channel indices are listed (largest first). */
export const MAX_OUTLIER_CHANNELS = 32;

/** Mass of the histogram outside [lo, hi], splitting edge bins by overlap. */
export function massOutside(h: RunningHistogram, lo: number, hi: number): number {
  const e = h.edges, c = h.counts;
  let m = 0;
  for (let i = 0; i < c.length; i++) {
    if (c[i] === 0) continue;
    const a = e[i], b = e[i + 1];
    const inside = Math.max(0, Math.min(b, hi) - Math.max(a, lo));
    m += c[i] * (1 - (b > a ? inside / (b - a) : lo <= a && a <= hi ? 1 : 0));
  }
  return Math.max(0, m);
}

/** Median of |x| from the histogram (bins folded onto |x| by their centres). */
export function medianAbs(h: RunningHistogram): number {
  const e = h.edges, c = h.counts;
  const items: [number, number][] = [];
  for (let i = 0; i < c.length; i++) if (c[i] > 0) items.push([Math.abs((e[i] + e[i + 1]) / 2), c[i]]);
  items.sort((a, b) => a[0] - b[0]);
  const half = h.count / 2;
  let acc = 0;
  for (const [v, n] of items) { acc += n; if (acc >= half) return v; }
  return 0;
}

/** Per-channel range disparity and outlier channel indices from per-channel min/max. */
export function channelDisparity(min: ArrayLike<number>, max: ArrayLike<number>): { ratio: number; outliers: number[] } {
  const ranges: number[] = [];
  for (let i = 0; i < min.length; i++) ranges.push(Number.isFinite(min[i]) && Number.isFinite(max[i]) ? max[i] - min[i] : 0);
  if (ranges.length < 2) return { ratio: 1, outliers: [] };
  const sorted = [...ranges].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const top = sorted[sorted.length - 1];
  const ratio = median > 0 ? top / median : top > 0 ? Infinity : 1;
  const threshold = OUTLIER_CHANNEL_FACTOR * median;
  const outliers = ranges.map((r, i) => [r, i] as const).filter(([r]) => r > threshold && r > 0)
    .sort((a, b) => b[0] - a[0]).slice(0, MAX_OUTLIER_CHANNELS).map(([, i]) => i);
  return { ratio, outliers };
}

/** The report's TensorStats for a tensor accumulated by an ActivationAccumulator. */
export function tensorStatsFrom(a: ActivationAccumulator): TensorStats {
  const h = a.histogram;
  const n = a.n;
  const std = a.std;
  const ch = a.channels();
  const { ratio, outliers } = ch ? channelDisparity(ch.min, ch.max) : { ratio: 1, outliers: [] };
  const med = n ? medianAbs(h) : 0;
  const maxAbs = n ? Math.max(Math.abs(h.min), Math.abs(h.max)) : 0;
  const safe = (x: number) => (Number.isFinite(x) ? x : Number.MAX_VALUE);
  return {
    count: n,
    min: n ? h.min : 0,
    max: n ? h.max : 0,
    mean: a.mean,
    std,
    kurtosis: a.kurtosis,
    beyond6Sigma: n && std > 0 ? massOutside(h, a.mean - 6 * std, a.mean + 6 * std) / n : 0,
    zeroFraction: n ? a.zeroCount / n : 0,
    channelRangeRatio: safe(ratio),
    nanCount: h.nanCount,
    infCount: h.infCount,
    denormalCount: a.denormalCount,
    maxOverMedian: med > 0 ? maxAbs / med : maxAbs > 0 ? Number.MAX_VALUE : 1,
    absBeyond6: n ? a.absBeyond6Count / n : 0,
    outlierChannels: outliers,
  };
}
