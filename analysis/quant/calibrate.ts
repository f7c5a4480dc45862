// SPDX-License-Identifier: Apache-2.0
/**
 * calibrate(tensor, spec) → QuantParams, and the same from streamed statistics (a RunningHistogram plus,
 * for MOSF, per-channel ranges). NaN/Inf are counted and excluded; empty and constant tensors work.
 */
import { doubleQuantizeScales } from './doubleQuant';
import { QuantLensError } from '../../engine/errors';
import { type Granularity, type QuantFormat, getFormat, resolveBits } from './formats';
import { type FamilyRuntime, type ScaleZp, type Variant, familyRuntime } from './families';
import { RunningHistogram } from './histogram';
import { GroupIndex, resolveGranularity, toLayout } from './layout';
import { type Sample, histogramSample, rawSample, searchable } from './sample';
import { chooseRange, mseRange, nativeRange, sampleError } from './search';
import type { CalibrationMethod, QuantParams, QuantSpec, TensorInput } from './types';

/** Printable calibration ('minmax', 'percentile:99.99', 'mosf:1'). */
export function calibrationLabel(m: CalibrationMethod): string {
  if (m.kind === 'percentile') return `percentile:${m.p}`;
  if (m.kind === 'mosf' && m.axis !== undefined) return `mosf:${m.axis}`;
  return m.kind;
}

function checkMethod(m: CalibrationMethod): CalibrationMethod {
  if (m.kind === 'percentile' && !(m.p > 0 && m.p <= 100)) {
    throw new QuantLensError('format', `percentile must be in (0, 100], got ${m.p}`);
  }
  if (!['minmax', 'percentile', 'mse', 'kl', 'mosf'].includes(m.kind)) {
    throw new QuantLensError('format', `unknown calibration '${(m as { kind: string }).kind}'; valid: minmax, percentile:P, mse, kl, mosf`);
  }
  return m;
}

interface Setup {
  format: QuantFormat;
  bits: number;
  method: CalibrationMethod;
  symmetric: boolean;
  signedCodes: boolean;
  rt: FamilyRuntime;
}

function setup(spec: QuantSpec, finiteMin: number): Setup {
  const format = getFormat(spec.format);
  const bits = resolveBits(format, spec.bits);
  const method = checkMethod(spec.calibration ?? { kind: 'minmax' });
  const symmetric = format.family === 'int' ? spec.symmetric ?? format.symmetricDefault ?? true : true;
  const signedCodes = format.signedness === 'auto' ? spec.symmetric === true || finiteMin < 0 : format.signedness === 'signed';
  return { format, bits, method, symmetric, signedCodes, rt: familyRuntime(format, bits, signedCodes) };
}

/** Picks the per-tensor variant (AdaLog base, Tan curvature) with the least MSE on the whole sample. */
function chooseVariant(st: Setup, whole: Sample): Variant {
  const vs = st.rt.variants;
  if (vs.length === 1 || whole.total === 0) return vs[0];
  const s = searchable(whole);
  let best = vs[0], bestErr = Infinity;
  const sz: ScaleZp = { scale: 1, zp: 0 };
  for (const v of vs) {
    let e: number;
    if (st.method.kind === 'mse') e = mseRange(s, st.rt, v.codec, st.symmetric).err;
    else {
      const [lo, hi] = chooseRange(s, st.rt, v.codec, st.symmetric, st.method);
      st.rt.scaleFor(v.codec, lo, hi, st.symmetric, sz);
      e = sampleError(s, v.codec, sz.scale, sz.zp);
    }
    if (e < bestErr) { bestErr = e; best = v; }
  }
  return best;
}

function makeParams(st: Setup, g: Granularity, v: Variant, scales: Float32Array, zps: Int32Array | null, nan: number, inf: number, mosfAxis?: number): QuantParams {
  const p: QuantParams = {
    format: st.format.id, family: st.format.family, bits: st.bits, granularity: g, layout: toLayout(g),
    symmetric: st.symmetric, signedCodes: st.signedCodes, scales, zeroPoints: zps,
    calibration: calibrationLabel(st.method.kind === 'mosf' && mosfAxis !== undefined ? { kind: 'mosf', axis: mosfAxis } : st.method),
    nanCount: nan, infCount: inf,
  };
  if (v.curvature !== undefined) p.curvature = v.curvature;
  if (st.format.family === 'adalog' && v.base !== undefined) p.base = v.base;
  return p;
}

function median(a: Float64Array): number {
  if (a.length === 0) return 0;
  const s = Float64Array.from(a).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** MOSF: per-channel native ranges folded into one tensor scale by their median. */
function mosfScale(st: Setup, v: Variant, chMin: Float64Array, chMax: Float64Array, out: ScaleZp): void {
  if (st.symmetric) {
    const amax = chMin.map((mn, i) => Math.max(Math.abs(mn), Math.abs(chMax[i])));
    const m = median(amax);
    st.rt.scaleFor(v.codec, -m, m, true, out);
  } else st.rt.scaleFor(v.codec, median(chMin), median(chMax), false, out);
}

/** Calibrates quantization parameters for a whole tensor (weights, or an activation batch held in memory). */
export function calibrate(tensor: TensorInput, spec: QuantSpec): QuantParams {
  const { data, dims } = tensor;
  const numel = dims.reduce((a, b) => a * b, 1);
  if (numel !== data.length) throw new QuantLensError('shape', `tensor has ${data.length} values but dims [${dims.join(', ')}] need ${numel}`);
  let nan = 0, inf = 0, mn = Infinity;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x !== x) nan++; else if (x === Infinity || x === -Infinity) inf++; else if (x < mn) mn = x;
  }
  const st = setup(spec, mn);
  let g = resolveGranularity(st.format, spec.granularity, dims);
  // MOSF with per-channel granularity means "these channel scales, folded into one": the channel axis is
  // the MOSF axis and the result is per tensor.
  let mosfAxis = st.method.kind === 'mosf' ? st.method.axis : undefined;
  if (st.method.kind === 'mosf' && g.kind === 'channel') { mosfAxis ??= g.axis; g = { kind: 'tensor' }; }
  const gi = new GroupIndex(dims, g);
  const buf = new Float32Array(Math.max(gi.maxGroupSize, st.method.kind === 'mosf' ? data.length : 0));
  const whole = st.rt.variants.length > 1 ? (() => {
    const b = new Float32Array(data.length);
    return rawSample(b, new GroupIndex(dims, { kind: 'tensor' }).gather(data, 0, b));
  })() : null;
  const v = whole ? chooseVariant(st, whole) : st.rt.variants[0];
  const scales = new Float32Array(gi.groupCount);
  const zps = new Int32Array(gi.groupCount);
  const sz: ScaleZp = { scale: 1, zp: 0 };

  if (st.method.kind === 'mosf') {
    if (g.kind !== 'tensor') throw new QuantLensError('format', 'mosf folds per-channel scales into one tensor scale: use tensor or channel granularity');
    const axis = mosfAxis ?? 0;
    if (dims.length === 0 || axis < 0 || axis >= dims.length) throw new QuantLensError('format', `mosf axis ${axis} is out of range for rank ${dims.length}`);
    const ch = new GroupIndex(dims, { kind: 'channel', axis });
    const chMin = new Float64Array(ch.groupCount), chMax = new Float64Array(ch.groupCount);
    for (let c = 0; c < ch.groupCount; c++) {
      const r = nativeRange(rawSample(buf, ch.gather(data, c, buf)), st.rt);
      chMin[c] = r[0]; chMax[c] = r[1];
    }
    mosfScale(st, v, chMin, chMax, sz);
    scales[0] = sz.scale;
    zps[0] = sz.zp;
  } else {
    for (let k = 0; k < gi.groupCount; k++) {
      const s = rawSample(buf, gi.gather(data, k, buf));
      // min-max is exact on any size; the other methods read a histogram once a group is large
      const search = st.method.kind === 'minmax' ? s : searchable(s);
      const [lo, hi] = chooseRange(search, st.rt, v.codec, st.symmetric, st.method);
      st.rt.scaleFor(v.codec, lo, hi, st.symmetric, sz);
      scales[k] = sz.scale;
      zps[k] = sz.zp;
    }
    if (st.format.doubleQuant) doubleQuantizeScales(scales, st.format.doubleQuant);
  }
  return makeParams(st, g, v, scales, zps.some((z) => z !== 0) ? zps : null, nan, inf, st.method.kind === 'mosf' ? mosfAxis ?? 0 : undefined);
}

/** Per-channel ranges streamed alongside the histogram (needed for MOSF only). */
export interface ChannelRanges { min: ArrayLike<number>; max: ArrayLike<number> }

/**
 * Calibrates a per-tensor quantization from streamed statistics (activations): the histogram supplies
 * min/max, percentiles and the weighted sample for MSE/KL; MOSF needs per-channel ranges.
 */
export function calibrateFromHistogram(h: RunningHistogram, spec: QuantSpec, channels?: ChannelRanges): QuantParams {
  const st = setup(spec, h.count ? h.min : 0);
  if (spec.granularity && spec.granularity.kind !== 'tensor') {
    throw new QuantLensError('format', 'calibration from a histogram gives one tensor scale: use tensor granularity');
  }
  const g = resolveGranularity(st.format, { kind: 'tensor' }, []);
  const s = histogramSample(h);
  const v = chooseVariant(st, s);
  const sz: ScaleZp = { scale: 1, zp: 0 };
  if (st.method.kind === 'mosf') {
    if (!channels || channels.min.length === 0) throw new QuantLensError('calibration', 'mosf needs per-channel ranges of the activation');
    const chMin = Float64Array.from(channels.min), chMax = Float64Array.from(channels.max);
    if (st.rt.nativeAbsMean) throw new QuantLensError('format', `mosf is not defined for '${st.format.id}' (absmean scale)`);
    mosfScale(st, v, chMin, chMax, sz);
  } else {
    const [lo, hi] = chooseRange(s, st.rt, v.codec, st.symmetric, st.method);
    st.rt.scaleFor(v.codec, lo, hi, st.symmetric, sz);
  }
  const zps = sz.zp !== 0 ? Int32Array.of(sz.zp) : null;
  return makeParams(st, g, v, Float32Array.of(sz.scale), zps, h.nanCount, h.infCount);
}
