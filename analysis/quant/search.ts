// SPDX-License-Identifier: Apache-2.0
/**
 * Range selection on a Sample: min-max, percentile, MSE-optimal search and KL/entropy (TensorRT style,
 * generalised to any codec: histogram bins that quantize to the same level share that level's mass).
 */
import { QuantLensError } from '../../engine/errors';
import { type Codec, IntCodec } from './codec';
import type { FamilyRuntime, ScaleZp } from './families';
import { type Sample, absMean, samplePercentile } from './sample';
import type { CalibrationMethod } from './types';

/** Weighted squared error of quantizing the sample with one scale/zp (allocation-free). */
export function sampleError(s: Sample, codec: Codec, scale: number, zp: number): number {
  const { values, weights } = s;
  if (codec instanceof IntCodec) return intSampleError(values, weights, s.length, codec.qmin, codec.qmax, scale, zp);
  let err = 0;
  for (let i = 0; i < s.length; i++) {
    const x = values[i];
    const d = x - Math.fround(codec.level(codec.encode(Math.fround(x / scale), zp), zp) * scale);
    err += weights ? weights[i] * d * d : d * d;
  }
  return err;
}

/** sampleError specialised for integer codecs (the hot loop of MSE search): inlined round-half-even. */
function intSampleError(values: Float32Array | Float64Array, weights: Float64Array | null, n: number, qmin: number, qmax: number, scale: number, zp: number): number {
  // The search only ranks candidates, so it multiplies by 1/scale and skips float32 rounding: it may differ
  // from quantize() on exact ties, which moves the error by far less than the candidate spacing.
  let err = 0;
  const inv = 1 / scale, lo = qmin - zp, hi = qmax - zp;
  if (weights) {
    for (let i = 0; i < n; i++) {
      const x = values[i];
      let q = Math.round(x * inv);
      q = q < lo ? lo : q > hi ? hi : q;
      const d = x - q * scale;
      err += weights[i] * d * d;
    }
    return err;
  }
  for (let i = 0; i < n; i++) {
    const x = values[i];
    let q = Math.round(x * inv);
    q = q < lo ? lo : q > hi ? hi : q;
    const d = x - q * scale;
    err += d * d;
  }
  return err;
}

/** The family's native min-max range of a sample. */
export function nativeRange(s: Sample, rt: FamilyRuntime): [number, number] {
  if (rt.nativeAbsMean) { const m = absMean(s); return [-m, m]; }
  return [s.min, s.max];
}

const scratch: ScaleZp = { scale: 1, zp: 0 };

/** MSE-optimal multiple of the native range: coarse sweep over rt.alphas, then a fine sweep around the best. */
export function mseRange(s: Sample, rt: FamilyRuntime, codec: Codec, symmetric: boolean): { range: [number, number]; err: number } {
  const [lo, hi] = nativeRange(s, rt);
  const errAt = (a: number) => {
    rt.scaleFor(codec, a * lo, a * hi, symmetric, scratch);
    return sampleError(s, codec, scratch.scale, scratch.zp);
  };
  let best = 1, bestErr = errAt(1);
  const shrinking = rt.alphas.length > 1 && rt.alphas[1] < rt.alphas[0];
  for (const a of rt.alphas) {
    const e = errAt(a);
    if (e < bestErr) { bestErr = e; best = a; }
    // Shrinking the clip past the minimum makes the error grow fast: stop once it is well above the best.
    else if (shrinking && e > 4 * bestErr) break;
  }
  const step = Math.abs(rt.alphas[1] - rt.alphas[0]) || 0.05;
  for (let k = -4; k <= 4; k++) {
    const a = best + (k * step) / 5;
    if (a <= 0 || k === 0) continue;
    const e = errAt(a);
    if (e < bestErr) { bestErr = e; best = a; }
  }
  return { range: [best * lo, best * hi], err: bestErr };
}

/**
 * KL calibration: histogram of |x| (or x for non-negative data) on [0, amax]; for each candidate threshold T
 * the reference P keeps the clipped tail in its last bin, Q spreads each quantized level's mass over the
 * bins of P that fall on that level; T = argmin KL(P‖Q).
 */
export function klRange(s: Sample, rt: FamilyRuntime, codec: Codec, symmetric: boolean): [number, number] {
  const amax = Math.max(Math.abs(s.min), Math.abs(s.max));
  if (s.total === 0 || amax === 0) return [s.min, s.max];
  const nb = Math.min(2048, Math.max(512, 1 << Math.ceil(Math.log2(Math.max(1, s.total / 4)))));
  const w = amax / nb;
  const hist = new Float64Array(nb);
  for (let i = 0; i < s.length; i++) {
    const b = Math.min(nb - 1, Math.floor(Math.abs(s.values[i]) / w));
    hist[b] += s.weights ? s.weights[i] : 1;
  }
  const nonNeg = s.min >= 0;
  const p = new Float64Array(nb), q = new Float64Array(nb), code = new Int32Array(nb);
  const stride = Math.max(1, Math.floor(nb / 128));
  let bestT = amax, bestKl = Infinity;
  for (let i = Math.max(stride, nb >> 4); i <= nb; i += stride) {
    const T = i * w;
    rt.scaleFor(codec, nonNeg ? 0 : -T, T, symmetric, scratch);
    let tail = 0;
    for (let j = i; j < nb; j++) tail += hist[j];
    for (let j = 0; j < i; j++) {
      p[j] = hist[j];
      code[j] = codec.encode(Math.fround(((j + 0.5) * w) / scratch.scale), scratch.zp);
    }
    // Q is built from the in-range bins only; P also carries the clipped tail, so clipping costs KL.
    // Consecutive bins with the same code form one level; spread its mass over the bins that hold data.
    for (let j0 = 0; j0 < i;) {
      let j1 = j0, mass = 0, nz = 0;
      while (j1 < i && code[j1] === code[j0]) { mass += p[j1]; if (p[j1] > 0) nz++; j1++; }
      for (let j = j0; j < j1; j++) q[j] = p[j] > 0 ? mass / nz : 0;
      j0 = j1;
    }
    p[i - 1] += tail;
    if (tail > 0 && q[i - 1] === 0) q[i - 1] = 1e-12;
    let sp = 0, sq = 0;
    for (let j = 0; j < i; j++) { sp += p[j]; sq += q[j]; }
    let kl = 0;
    for (let j = 0; j < i; j++) if (p[j] > 0) kl += (p[j] / sp) * Math.log((p[j] / sp) / (q[j] / sq));
    if (kl < bestKl - 1e-12) { bestKl = kl; bestT = T; }
  }
  return [Math.max(s.min, -bestT), Math.min(s.max, bestT)];
}

/** Clip range of one group under a calibration method (not MOSF, which spans groups). */
export function chooseRange(s: Sample, rt: FamilyRuntime, codec: Codec, symmetric: boolean, m: CalibrationMethod): [number, number] {
  if (s.total === 0) return [0, 0];
  if (rt.nativeAbsMean && (m.kind === 'percentile' || m.kind === 'kl' || m.kind === 'mosf')) {
    throw new QuantLensError('format', `${m.kind} calibration does not apply to ${rt.family} (its scale is mean|x|); use minmax or mse`);
  }
  switch (m.kind) {
    case 'minmax':
    case 'mosf':
      return nativeRange(s, rt);
    case 'percentile': {
      if (symmetric || rt.nativeAbsMean) { const a = samplePercentile(s, m.p, true); return [-a, a]; }
      return [samplePercentile(s, 100 - m.p, false), samplePercentile(s, m.p, false)];
    }
    case 'mse':
      return mseRange(s, rt, codec, symmetric).range;
    case 'kl':
      return klRange(s, rt, codec, symmetric);
  }
}
