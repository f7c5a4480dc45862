// SPDX-License-Identifier: Apache-2.0
/**
 * Streaming statistics of one activation tensor over the calibration set: the quantizer's range-adaptive
 * histogram (≥ 2048 bins), exact central moments up to the 4th (merged batch by batch with Chan/Pébay's
 * formulas, float64, so kurtosis stays accurate when the mean is large), outlier counts, and per-channel
 * min/max/absmax/mean. Memory is fixed per tensor, whatever the dataset size.
 */
import { RunningHistogram, DEFAULT_BINS } from '../quant/histogram';

const FLT_MIN_NORMAL = 1.1754943508222875e-38;

export interface ChannelStats {
  min: Float64Array;
  max: Float64Array;
  absmax: Float64Array;
  mean: Float64Array;
}

/** Accumulates one tensor's statistics across batches; channel axis fixed at construction. */
export class ActivationAccumulator {
  readonly histogram: RunningHistogram;
  /** Finite-value count and central moments M2..M4 (sums of (x − mean)^k). */
  n = 0;
  mean = 0;
  m2 = 0;
  m3 = 0;
  m4 = 0;
  zeroCount = 0;
  denormalCount = 0;
  absBeyond6Count = 0;
  shape: number[] = [];
  private chMin: Float64Array | null = null;
  private chMax: Float64Array | null = null;
  private chAbs: Float64Array | null = null;
  private chSum: Float64Array | null = null;
  private chCount: Float64Array | null = null;

  constructor(readonly name: string, readonly channelAxis: (rank: number) => number, bins = DEFAULT_BINS) {
    this.histogram = new RunningHistogram(bins);
  }

  /** Add one batch of values with its dims. */
  add(data: Float32Array, dims: readonly number[]): void {
    this.shape = [...dims];
    this.histogram.add(data);
    this.addMoments(data);
    this.addChannels(data, dims);
  }

  private addMoments(data: Float32Array): void {
    // batch moments first (two passes over the batch), then merge into the running ones
    let n = 0, s = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!Number.isFinite(v)) continue;
      n++; s += v;
      const a = Math.abs(v);
      if (a === 0) this.zeroCount++;
      else if (a < FLT_MIN_NORMAL) this.denormalCount++;
      if (a >= 6) this.absBeyond6Count++;
    }
    if (n === 0) return;
    const mb = s / n;
    let m2 = 0, m3 = 0, m4 = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!Number.isFinite(v)) continue;
      const d = v - mb, d2 = d * d;
      m2 += d2; m3 += d2 * d; m4 += d2 * d2;
    }
    const na = this.n, nb = n, nx = na + nb;
    const delta = mb - this.mean, d2 = delta * delta;
    const m4x = this.m4 + m4 + d2 * d2 * na * nb * (na * na - na * nb + nb * nb) / (nx ** 3)
      + 6 * d2 * (na * na * m2 + nb * nb * this.m2) / (nx * nx) + 4 * delta * (na * m3 - nb * this.m3) / nx;
    const m3x = this.m3 + m3 + d2 * delta * na * nb * (na - nb) / (nx * nx) + 3 * delta * (na * m2 - nb * this.m2) / nx;
    const m2x = this.m2 + m2 + d2 * na * nb / nx;
    this.mean += delta * nb / nx;
    this.m2 = m2x; this.m3 = m3x; this.m4 = m4x; this.n = nx;
  }

  private addChannels(data: Float32Array, dims: readonly number[]): void {
    const rank = dims.length;
    if (rank < 2) return;
    const axis = this.channelAxis(rank);
    const C = dims[axis];
    const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    if (!this.chMin || this.chMin.length !== C) {
      this.chMin = new Float64Array(C).fill(Infinity);
      this.chMax = new Float64Array(C).fill(-Infinity);
      this.chAbs = new Float64Array(C);
      this.chSum = new Float64Array(C);
      this.chCount = new Float64Array(C);
    }
    const mn = this.chMin, mx = this.chMax!, ab = this.chAbs!, sm = this.chSum!, ct = this.chCount!;
    for (let i = 0, o = 0; o < data.length; i++) {
      const c = i % C;
      let lo = mn[c], hi = mx[c], s = 0, k = 0;
      for (let j = 0; j < inner; j++, o++) {
        const v = data[o];
        if (!Number.isFinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        s += v; k++;
      }
      mn[c] = lo; mx[c] = hi; sm[c] += s; ct[c] += k;
      ab[c] = Math.max(ab[c], Math.abs(lo), Math.abs(hi));
    }
  }

  /** Per-channel statistics (null for rank < 2 tensors). */
  channels(): ChannelStats | null {
    if (!this.chMin) return null;
    const mean = this.chSum!.map((s, i) => (this.chCount![i] ? s / this.chCount![i] : 0));
    return { min: this.chMin, max: this.chMax!, absmax: this.chAbs!, mean };
  }

  get std(): number { return this.n ? Math.sqrt(this.m2 / this.n) : 0; }
  /** Pearson kurtosis (3 for a normal distribution); 0 when the tensor is constant. */
  get kurtosis(): number { return this.m2 > 0 ? (this.n * this.m4) / (this.m2 * this.m2) : 0; }
  get skewness(): number { return this.m2 > 0 ? (Math.sqrt(this.n) * this.m3) / this.m2 ** 1.5 : 0; }
}

/** Activation channel axis: 1 for image-like tensors (rank ≥ 4, NCHW), the last (feature) axis otherwise. */
export function activationChannelAxis(rank: number): number {
  return rank >= 4 ? 1 : rank - 1;
}
