// SPDX-License-Identifier: Apache-2.0
/**
 * Distribution tags: each a one-line reason with the numbers behind it and a suggested quantizer
 * (RepQ-ViT/DopQ-ViT/LLM.int8 findings, seeds-brief §2.2 and §1). A tensor holding NaN/Inf is tagged
 * 'non-finite' and every other tag loses its suggestion: broken numbers never reach a recommendation.
 */
import type { Tag, TensorStats } from '../report';
import type { RunningHistogram } from '../quant/histogram';

export interface TagContext {
  kind: 'weight' | 'activation';
  /** Op that produced the tensor (activations), e.g. 'Softmax'. */
  producerOp?: string;
  /** Skewness from the accumulator's moments, when known. */
  skewness?: number;
}

/** Thresholds, kept together so the UI can show them and tests can name them. */
export const TAG_THRESHOLDS = {
  heavyKurtosis: 10,
  heavyBeyond6Sigma: 1e-4,
  channelRangeRatio: 8,
  nearConstantRelStd: 1e-6,
  bimodalValley: 0.5,
  bimodalMinPeak: 0.1,
} as const;

const f = (x: number, d = 2) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-2 && x !== 0) ? x.toExponential(d) : x.toFixed(d));

/** Tags for one tensor. */
export function tagTensor(stats: TensorStats, hist: RunningHistogram | undefined, ctx: TagContext): Tag[] {
  const tags: Tag[] = [];
  const nonFinite = stats.nanCount + stats.infCount;
  if (stats.count === 0 && nonFinite === 0) return tags;
  const scale = Math.max(Math.abs(stats.mean), Math.abs(stats.min), Math.abs(stats.max), 1e-30);

  if (stats.count > 0 && stats.std <= TAG_THRESHOLDS.nearConstantRelStd * scale) {
    tags.push({ id: 'near-constant', reason: `std ${f(stats.std)} around ${f(stats.mean)}: the tensor is (almost) constant`,
      suggestion: 'int2' });
  } else if (stats.count > 0) {
    const powerLaw = isPowerLaw(stats, hist, ctx);
    if (powerLaw) tags.push({ id: 'power-law', reason: powerLaw, suggestion: 'log2' });
    if (stats.kurtosis > TAG_THRESHOLDS.heavyKurtosis || stats.beyond6Sigma > TAG_THRESHOLDS.heavyBeyond6Sigma) {
      tags.push({ id: 'heavy-tailed',
        reason: `kurtosis ${f(stats.kurtosis)} (normal: 3), ${f(stats.beyond6Sigma * 100, 3)}% beyond 6σ, max/|median| ${f(stats.maxOverMedian ?? 0, 1)}`,
        suggestion: 'fp8_e4m3' });
    }
    const bimodal = !powerLaw && hist ? bimodality(hist) : null;
    if (bimodal) tags.push({ id: 'bimodal', reason: bimodal, suggestion: stats.min >= 0 ? 'uint8' : 'fp8_e4m3' });
    if (stats.channelRangeRatio > TAG_THRESHOLDS.channelRangeRatio) {
      const n = stats.outlierChannels?.length ?? 0;
      tags.push({ id: 'inter-channel-variance',
        reason: `largest channel range is ${f(stats.channelRangeRatio, 1)}× the median${n ? `; ${n} outlier channel(s), e.g. ${stats.outlierChannels!.slice(0, 4).join(', ')}` : ''}`,
        suggestion: ctx.kind === 'weight' ? 'per-channel' : 'mosf' });
    }
  }
  if (nonFinite > 0) {
    for (const t of tags) delete t.suggestion;
    tags.unshift({ id: 'non-finite',
      reason: `${stats.nanCount} NaN and ${stats.infCount} Inf value(s): excluded from statistics and from every suggestion` });
  }
  return tags;
}

/** Post-Softmax-like: values in [0, 1] with the mass piled up near 0 (or produced by Softmax). */
function isPowerLaw(s: TensorStats, hist: RunningHistogram | undefined, ctx: TagContext): string | null {
  if (s.min < -1e-6 || s.max > 1 + 1e-5) return null;
  if (ctx.producerOp === 'Softmax') return 'output of Softmax: probabilities in [0, 1], dense near 0 with rare large values';
  if (!hist || s.max <= 0) return null;
  const median = hist.percentile(50);
  const skew = ctx.skewness ?? 0;
  if (median <= s.max / 16 && skew > 2) {
    return `values in [0, 1] with median ${f(median, 3)} ≪ max ${f(s.max, 3)} (skewness ${f(skew)}): power-law, post-Softmax-like`;
  }
  return null;
}

/** Two separated peaks in a 64-bin view of the histogram, with a valley below half the smaller peak. */
function bimodality(h: RunningHistogram): string | null {
  if (h.count === 0 || !(h.max > h.min)) return null;
  const B = 64;
  const bins = new Float64Array(B);
  const e = h.edges, c = h.counts;
  for (let i = 0; i < c.length; i++) {
    if (c[i] === 0) continue;
    const x = (e[i] + e[i + 1]) / 2;
    bins[Math.min(B - 1, Math.max(0, Math.floor(((x - h.min) / (h.max - h.min)) * B)))] += c[i];
  }
  let s = bins;
  for (let k = 0; k < 2; k++) s = s.map((v, i) => (0.25 * (s[Math.max(0, i - 1)] + s[Math.min(B - 1, i + 1)]) + 0.5 * v));
  const top = Math.max(...s);
  const peaks: number[] = [];
  for (let i = 0; i < B; i++) {
    const l = i === 0 ? -1 : s[i - 1], r = i === B - 1 ? -1 : s[i + 1];
    if (s[i] > l && s[i] >= r && s[i] >= TAG_THRESHOLDS.bimodalMinPeak * top) peaks.push(i);
  }
  if (peaks.length < 2) return null;
  peaks.sort((a, b) => s[b] - s[a]);
  const [p1, p2] = [Math.min(peaks[0], peaks[1]), Math.max(peaks[0], peaks[1])];
  if (p2 - p1 < 4) return null;
  let valley = Infinity;
  for (let i = p1; i <= p2; i++) valley = Math.min(valley, s[i]);
  const smaller = Math.min(s[p1], s[p2]);
  if (valley > TAG_THRESHOLDS.bimodalValley * smaller) return null;
  const at = (i: number) => h.min + ((i + 0.5) / B) * (h.max - h.min);
  return `two modes near ${f(at(p1))} and ${f(at(p2))} with a valley at ${f((valley / smaller) * 100, 0)}% of the smaller peak`;
}

/**
 * Adds the tags of one side of a layer ('weight' or 'activation') to the layer's tags, each reason prefixed by
 * its side. A tag id both sides carry becomes one tag (ids are what the table, the tree and the CLI show),
 * its reasons joined; the suggestion of the first side is kept.
 */
export function addLayerTags(into: Tag[], side: 'weight' | 'activation', tags: Tag[]): Tag[] {
  for (const t of tags) {
    const reason = `${side}: ${t.reason}`;
    const same = into.find((x) => x.id === t.id);
    if (same) same.reason = `${same.reason}; ${reason}`;
    else into.push({ ...t, reason });
  }
  return into;
}
