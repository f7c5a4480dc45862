// SPDX-License-Identifier: Apache-2.0
/**
 * Resize (opset 10 and 11+) and the older Upsample: nearest, (multi)linear and cubic (11+), with the coordinate
 * transformation and nearest-rounding modes onnxruntime implements. Antialias and tf_crop_and_resize are reported as unsupported.
 */
import { QuantLensError } from '../errors';
import type { Tensor } from '../ir';
import { elementCount } from '../ir';
import { floatData, fromNumbers, intList, isIntegerType, numbers, stridesOf } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';

type Coord = (x: number, scale: number, inSize: number, outSize: number) => number;

const COORDS: Record<string, Coord> = {
  half_pixel: (x, s) => (x + 0.5) / s - 0.5,
  pytorch_half_pixel: (x, s, _i, o) => (o > 1 ? (x + 0.5) / s - 0.5 : 0),
  align_corners: (x, _s, i, o) => (o === 1 ? 0 : (x * (i - 1)) / (o - 1)),
  asymmetric: (x, s) => x / s,
  tf_half_pixel_for_nearest: (x, s) => (x + 0.5) / s,
};

type Round = (x: number, down: boolean) => number;

const ROUNDS: Record<string, Round> = {
  round_prefer_floor: (x) => (x % 1 === 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => Math.round(x),
  floor: (x) => Math.floor(x),
  ceil: (x) => Math.ceil(x),
  // Upsample and opset-10 Resize: truncate when upsampling, ceil when downsampling (onnxruntime's "simple").
  simple: (x, down) => (down ? Math.ceil(x) : Math.trunc(x)),
};

type Mode = 'nearest' | 'linear' | 'cubic';
interface ResizeSpec { mode: Mode; coord: Coord; round: Round; cubicA: number; excludeOutside: boolean }

/** Per-axis sampling table: `taps` source indices and weights per output coordinate (1 nearest, 2 linear, 4 cubic). */
interface AxisTable { taps: number; idx: Int32Array; w: Float64Array }

/** Keys' cubic convolution kernel with coefficient a (onnxruntime's default a = −0.75). */
function cubicWeight(s: number, a: number): number {
  const x = Math.abs(s);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

function axisTable(spec: ResizeSpec, inSize: number, outSize: number, scale: number): AxisTable {
  const identity = inSize === outSize && scale === 1;
  const taps = identity || spec.mode === 'nearest' ? 1 : spec.mode === 'linear' ? 2 : 4;
  const idx = new Int32Array(outSize * taps), w = new Float64Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const at = o * taps;
    if (identity) { idx[at] = o; w[at] = 1; continue; }
    const x = spec.coord(o, scale, inSize, outSize);
    if (spec.mode === 'nearest') {
      idx[at] = Math.min(Math.max(spec.round(x, scale < 1), 0), inSize - 1); w[at] = 1;
    } else if (spec.mode === 'linear') {
      const c = Math.min(Math.max(x, 0), inSize - 1), f = Math.floor(c);
      idx[at] = f; idx[at + 1] = Math.min(f + 1, inSize - 1); w[at] = 1 - (c - f); w[at + 1] = c - f;
    } else {
      const f = Math.floor(x), t = x - f;
      let sum = 0;
      for (let k = 0; k < 4; k++) {
        const i = f - 1 + k;
        let wk = cubicWeight(t + 1 - k, spec.cubicA);
        if (spec.excludeOutside && (i < 0 || i >= inSize)) wk = 0;
        idx[at + k] = Math.min(Math.max(i, 0), inSize - 1); w[at + k] = wk; sum += wk;
      }
      if (spec.excludeOutside && sum !== 0) for (let k = 0; k < 4; k++) w[at + k] /= sum;
    }
  }
  return { taps, idx, w };
}

function resample(x: Tensor, outDims: number[], scales: number[], spec: ResizeSpec): Tensor {
  const r = x.dims.length;
  const tables = outDims.map((o, ax) => axisTable(spec, x.dims[ax], o, scales[ax]));
  const active = tables.map((_, ax) => ax).filter((ax) => tables[ax].taps > 1);
  const src = isIntegerType(x.dtype) ? numbers(x) : floatData(x);
  const inStr = stridesOf(x.dims);
  const n = elementCount(outDims);
  const y = new Float64Array(n);
  const idx = new Array<number>(r).fill(0);
  const combos = active.reduce((p, d) => p * tables[d].taps, 1);
  for (let o = 0; o < n; o++) {
    let base = 0;
    for (let d = 0; d < r; d++) if (tables[d].taps === 1) base += tables[d].idx[idx[d]] * inStr[d];
    let acc = 0;
    for (let c = 0; c < combos; c++) {
      let off = base, wt = 1, rem = c;
      for (const d of active) {
        const t = tables[d], k = rem % t.taps, at = idx[d] * t.taps + k;
        rem = (rem - k) / t.taps;
        off += t.idx[at] * inStr[d]; wt *= t.w[at];
      }
      if (wt !== 0) acc += wt * src[off];
    }
    y[o] = combos === 1 ? src[base] : acc;
    for (let d = r - 1; d >= 0; d--) { if (++idx[d] < outDims[d]) break; idx[d] = 0; }
  }
  if (isIntegerType(x.dtype)) return fromNumbers(x.dtype, outDims, y.map(Math.round));
  return { dtype: x.dtype, dims: outDims, data: Float32Array.from(y) };
}

function parseMode(a: Attrs, cubic: boolean): Mode {
  const mode = a.string('mode', 'nearest');
  if (mode === 'bilinear' || mode === 'linear') return 'linear';
  if (mode === 'cubic' && cubic) return 'cubic';
  if (mode !== 'nearest') throw a.unsupported(`mode '${mode}'`);
  return 'nearest';
}

export const Resize: OpFactory = (node, ctx) => {
  const a = new Attrs(node);
  const legacy = ctx.opset < 11;
  const mode = parseMode(a, !legacy);
  const coordName = legacy ? 'asymmetric' : a.string('coordinate_transformation_mode', 'half_pixel');
  const roundName = legacy ? 'simple' : a.string('nearest_mode', 'round_prefer_floor');
  if (!COORDS[coordName]) throw a.unsupported(`coordinate_transformation_mode '${coordName}'`);
  if (!ROUNDS[roundName]) throw a.unsupported(`nearest_mode '${roundName}'`);
  if (a.int('antialias', 0) !== 0) throw a.unsupported('antialias');
  if (a.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch') throw a.unsupported('keep_aspect_ratio_policy');
  const attrAxes = a.ints('axes');
  const spec: ResizeSpec = {
    mode, coord: COORDS[coordName], round: ROUNDS[roundName], cubicA: a.float('cubic_coeff_a', -0.75), excludeOutside: a.int('exclude_outside', 0) === 1,
  };
  const what = `Resize node '${node.name}'`;
  return (inputs) => {
    const x = need(inputs, 0, node);
    const r = x.dims.length;
    const axes = attrAxes ?? x.dims.map((_, i) => i);
    const scalesT = legacy ? inputs[1] : inputs[2], sizesT = legacy ? undefined : inputs[3];
    const scales = x.dims.map(() => 1), outDims = [...x.dims];
    if (sizesT && elementCount(sizesT.dims) > 0) {
      const sizes = intList(sizesT);
      axes.forEach((ax, i) => { outDims[ax] = sizes[i]; scales[ax] = sizes[i] / x.dims[ax]; });
    } else if (scalesT && elementCount(scalesT.dims) > 0) {
      const s = Array.from(numbers(scalesT));
      axes.forEach((ax, i) => { scales[ax] = s[i]; outDims[ax] = Math.floor(x.dims[ax] * s[i]); });
    } else {
      throw new QuantLensError('model-format', `${what}: neither scales nor sizes given`);
    }
    if (outDims.length !== r) throw new QuantLensError('shape', `${what}: scales/sizes do not match rank ${r}`);
    return [resample(x, outDims, scales, spec)];
  };
};

export const Upsample: OpFactory = (node, ctx) => {
  const a = new Attrs(node);
  const spec: ResizeSpec = { mode: parseMode(a, false), coord: COORDS.asymmetric, round: ROUNDS.simple, cubicA: -0.75, excludeOutside: false };
  const attrScales = a.floats('scales');
  return (inputs) => {
    const x = need(inputs, 0, node);
    const scales = ctx.opset >= 9 ? Array.from(numbers(need(inputs, 1, node))) : attrScales;
    if (!scales || scales.length !== x.dims.length) throw new QuantLensError('model-format', `Upsample node '${node.name}': scales missing or of the wrong rank`);
    return [resample(x, x.dims.map((d, i) => Math.floor(d * scales[i])), scales, spec)];
  };
};
