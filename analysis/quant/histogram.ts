// SPDX-License-Identifier: Apache-2.0
/**
 * A range-adaptive streaming histogram: activations are added batch by batch and never held whole. The bin
 * count is fixed; when a value falls outside the range, the bin width doubles (pairs of bins merge exactly,
 * because the new grid is aligned to the old one) until the range covers it. Exact min/max/count/moments and
 * NaN/Inf counts ride along; non-finite values are counted, never binned.
 */
import { QuantLensError } from '../../engine/errors';

/** Serialised form (plain JSON). */
export interface HistogramJSON {
  bins: number;
  lo: number;
  width: number;
  counts: number[];
  count: number;
  min: number;
  max: number;
  sum: number;
  sumSq: number;
  nanCount: number;
  infCount: number;
}

export const DEFAULT_BINS = 2048;

/** Streaming histogram of finite values with exact min/max; see the file comment. */
export class RunningHistogram {
  readonly bins: number;
  /** Left edge of bin 0 and the bin width (width 0 until the first finite value arrives). */
  private lo = 0;
  private width = 0;
  private c: Float64Array;
  count = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  sumSq = 0;
  nanCount = 0;
  infCount = 0;

  constructor(bins = DEFAULT_BINS) {
    if (!Number.isInteger(bins) || bins < 2) throw new QuantLensError('usage', `histogram needs at least 2 bins, got ${bins}`);
    this.bins = bins;
    this.c = new Float64Array(bins);
  }

  /** Adds a batch of values (NaN/Inf are counted and skipped). */
  add(values: ArrayLike<number>): this {
    let mn = Infinity, mx = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    // Infinite extremes must not set the range: recompute over finite values only when needed.
    if (!Number.isFinite(mn) || !Number.isFinite(mx)) {
      mn = Infinity; mx = -Infinity;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (!Number.isFinite(v)) continue;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
    }
    if (mn > mx) { this.countNonFinite(values); return this; }
    this.cover(mn, mx);
    const lo = this.lo, inv = 1 / this.width, last = this.bins - 1, c = this.c;
    let n = 0, s = 0, s2 = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== v) { this.nanCount++; continue; }
      if (v === Infinity || v === -Infinity) { this.infCount++; continue; }
      let b = Math.floor((v - lo) * inv);
      if (b > last) b = last; else if (b < 0) b = 0;
      c[b]++;
      n++; s += v; s2 += v * v;
    }
    this.count += n; this.sum += s; this.sumSq += s2;
    if (mn < this.min) this.min = mn;
    if (mx > this.max) this.max = mx;
    return this;
  }

  /** Merges another histogram into this one (bins are redistributed by overlap when the grids differ). */
  merge(other: RunningHistogram): this {
    this.nanCount += other.nanCount;
    this.infCount += other.infCount;
    if (other.count === 0) return this;
    this.cover(other.min, other.max);
    const oc = other.c, ow = other.width;
    for (let j = 0; j < other.bins; j++) {
      if (oc[j] === 0) continue;
      const a = Math.max(other.lo + j * ow, other.min), b = Math.min(other.lo + (j + 1) * ow, other.max);
      this.spread(a, Math.max(a, b), oc[j]);
    }
    this.count += other.count; this.sum += other.sum; this.sumSq += other.sumSq;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    return this;
  }

  /** Bin counts (length `bins`). */
  get counts(): Float64Array { return this.c; }

  /** Bin edges (length `bins + 1`). */
  get edges(): Float64Array {
    const e = new Float64Array(this.bins + 1);
    for (let i = 0; i <= this.bins; i++) e[i] = this.lo + i * this.width;
    return e;
  }

  /** Bin centres clamped to the exact [min, max], for weighted-sample calibration. */
  centers(): Float64Array {
    const m = new Float64Array(this.bins);
    for (let i = 0; i < this.bins; i++) m[i] = Math.min(this.max, Math.max(this.min, this.lo + (i + 0.5) * this.width));
    return m;
  }

  get mean(): number { return this.count ? this.sum / this.count : 0; }
  get std(): number {
    if (!this.count) return 0;
    const m = this.mean;
    return Math.sqrt(Math.max(0, this.sumSq / this.count - m * m));
  }

  /** The p-th percentile (p in [0, 100]) of the finite values, linear within a bin, clamped to [min, max]. */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) throw new QuantLensError('usage', `percentile must be in [0, 100], got ${p}`);
    if (this.count === 0) return 0;
    if (p === 0) return this.min;
    if (p === 100) return this.max;
    const target = (p / 100) * this.count;
    let acc = 0;
    for (let i = 0; i < this.bins; i++) {
      const n = this.c[i];
      if (acc + n >= target && n > 0) {
        const v = this.lo + (i + (target - acc) / n) * this.width;
        return Math.min(this.max, Math.max(this.min, v));
      }
      acc += n;
    }
    return this.max;
  }

  toJSON(): HistogramJSON {
    return {
      bins: this.bins, lo: this.lo, width: this.width, counts: Array.from(this.c), count: this.count,
      min: this.min, max: this.max, sum: this.sum, sumSq: this.sumSq, nanCount: this.nanCount, infCount: this.infCount,
    };
  }

  static fromJSON(j: HistogramJSON): RunningHistogram {
    const h = new RunningHistogram(j.bins);
    if (j.counts.length !== j.bins) throw new QuantLensError('usage', `histogram JSON has ${j.counts.length} counts for ${j.bins} bins`);
    h.lo = j.lo; h.width = j.width; h.c.set(j.counts);
    h.count = j.count; h.sum = j.sum; h.sumSq = j.sumSq; h.nanCount = j.nanCount; h.infCount = j.infCount;
    // JSON turns ±Infinity into null: an empty histogram comes back with its identity extremes.
    h.min = j.count ? j.min : Infinity;
    h.max = j.count ? j.max : -Infinity;
    return h;
  }

  private countNonFinite(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== v) this.nanCount++; else if (!Number.isFinite(v)) this.infCount++;
    }
  }

  /** Grows the range (doubling the width, keeping the old grid aligned) until [mn, mx] fits. */
  private cover(mn: number, mx: number): void {
    if (this.width === 0) {
      const span = mx - mn;
      // A constant start gets a tiny positive width so later values can still be binned exactly.
      const w = span > 0 ? span / this.bins : Math.max(Math.abs(mn) * 2 ** -20, 2 ** -60) / this.bins;
      this.lo = span > 0 ? mn : mn - (w * this.bins) / 2;
      this.width = w;
      // Guard against the top value rounding onto bin `bins`: add() clamps into the last bin.
      return;
    }
    const hi = this.lo + this.bins * this.width;
    if (mn >= this.lo && mx <= hi) return;
    let k = 1;
    for (;;) {
      const w2 = this.width * 2 ** k;
      const shiftBins = mn < this.lo ? Math.ceil((this.lo - mn) / this.width) : 0;
      const lo2 = this.lo - shiftBins * this.width;
      if (lo2 + this.bins * w2 >= mx && Number.isFinite(w2)) { this.regrid(lo2, w2); return; }
      k++;
    }
  }

  private regrid(lo2: number, w2: number): void {
    const old = this.c, lo = this.lo, w = this.width;
    this.c = new Float64Array(this.bins);
    this.lo = lo2; this.width = w2;
    const last = this.bins - 1;
    for (let j = 0; j < this.bins; j++) {
      if (old[j] === 0) continue;
      // The old bin lies inside exactly one new bin (aligned grid); its centre locates it robustly.
      let b = Math.floor((lo + (j + 0.5) * w - lo2) / w2);
      if (b > last) b = last; else if (b < 0) b = 0;
      this.c[b] += old[j];
    }
  }

  /** Spreads mass `n` uniformly over [a, b] onto this grid. */
  private spread(a: number, b: number, n: number): void {
    const last = this.bins - 1, lo = this.lo, w = this.width;
    const ia = Math.min(last, Math.max(0, Math.floor((a - lo) / w)));
    const ib = Math.min(last, Math.max(0, Math.floor((b - lo) / w)));
    if (ia === ib || b <= a) { this.c[ia] += n; return; }
    for (let i = ia; i <= ib; i++) {
      const l = Math.max(a, lo + i * w), r = Math.min(b, lo + (i + 1) * w);
      if (r > l) this.c[i] += (n * (r - l)) / (b - a);
    }
  }
}
