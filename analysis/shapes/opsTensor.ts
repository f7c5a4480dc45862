// SPDX-License-Identifier: Apache-2.0
/**
 * Shape rules for elementwise and data-movement ops. Where the inputs are small known constants the rule
 * also computes the output value, which is how Shape → Gather → Concat → Reshape chains resolve.
 */
import type { DType, Dim } from '../../engine/ir';
import { dtypeOf } from '../onnx/dtypes';
import { axisOf, broadcast, dimProduct, type OpContext, type OutInfo, type ShapeRule } from './context';
import {
  MAX_VALUE_ELEMENTS, arith, castVal, concat, count, elementwise, gather, sliceRanges, sliceVal, transposeVal, valOf, type Val,
} from './values';

const known = (s: Dim[] | undefined): s is number[] => !!s && s.every((d) => typeof d === 'number');
const same = (c: OpContext, i = 0): OutInfo => ({ shape: c.shape(i), dtype: c.dtype(i) });
const withValue = (_c: OpContext, shape: Dim[] | undefined, dtype: DType | undefined, value?: Val): OutInfo[] =>
  [{ shape: value ? value.dims : shape, dtype: value?.dtype ?? dtype, value }];

const UNARY_EVAL: Partial<Record<string, (x: number) => number>> = {
  Neg: (x) => -x, Abs: Math.abs, Floor: Math.floor, Ceil: Math.ceil, Sqrt: Math.sqrt, Relu: (x) => Math.max(0, x),
  Identity: (x) => x, Reciprocal: (x) => 1 / x, Exp: Math.exp, Log: Math.log, Sign: Math.sign,
  Round: (x) => { const f = Math.floor(x); const d = x - f; return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f; },
};

function unary(c: OpContext): OutInfo[] {
  const f = UNARY_EVAL[c.node.opType];
  const v = c.value(0);
  const out = f && v ? elementwise([v], f, v.dtype) : undefined;
  return withValue(c, c.shape(0), c.dtype(0), out);
}

const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);

function binary(c: OpContext): OutInfo[] {
  const dtype0: DType | undefined = BOOL_OPS.has(c.node.opType) ? 'bool' : c.dtype(0);
  // PRelu's slope broadcasts onto x; before opset 7 binary ops used legacy (axis-aligned) broadcasting of B onto A
  if (c.node.opType === 'PRelu' || (c.opset < 7 && c.node.attrs.broadcast)) return [{ shape: c.shape(0), dtype: dtype0 }];
  const shapes = c.node.inputs.map((_, i) => c.shape(i)).filter((s, i) => c.has(i) && s) as Dim[][];
  const all = c.node.inputs.every((x, i) => !x || c.shape(i));
  const shape = all && shapes.length ? broadcast(c, shapes) : undefined;
  const a = c.value(0), b = c.value(1);
  const val = a && b && c.inputCount === 2 ? arith(c.node.opType, a, b) : undefined;
  return withValue(c, shape, dtype0, val);
}

function reshape(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  const target = c.node.opType === 'Reshape' && c.opset < 5 ? c.ints('shape') : c.value(1)?.v;
  if (!target) return [{ dtype: c.dtype(0) }];
  const allowZero = c.int('allowzero', 0) === 1;
  const out: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? (x ? x[i] ?? c.fail(`shape entry ${i} is 0 but the input has rank ${x.length}`) : null) : t));
  const minus = out.filter((d) => d === -1).length;
  if (minus > 1) c.fail(`target shape [${target.join(',')}] has more than one -1`);
  const total = x ? dimProduct(x) : null;
  const rest = dimProduct(out.filter((d) => d !== -1));
  if (minus === 1) {
    const i = out.indexOf(-1);
    if (total !== null && rest !== null) {
      if (rest === 0 || total % rest !== 0) c.fail(`cannot reshape [${x!.join(',')}] (${total} elements) to [${target.join(',')}]`);
      out[i] = total / rest;
    } else out[i] = null;
  } else if (total !== null && rest !== null && total !== rest) {
    c.fail(`cannot reshape [${x!.join(',')}] (${total} elements) to [${out.join(',')}] (${rest})`);
  }
  const v = c.value(0);
  const value = v && known(out) ? { ...v, dims: out } : undefined;
  return withValue(c, out, c.dtype(0), value);
}

function flatten(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  if (!x) return [{ dtype: c.dtype(0) }];
  const r = x.length;
  let axis = c.int('axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) c.fail(`axis ${c.int('axis', 1)} is out of range for rank ${r}`);
  return [{ shape: [dimProduct(x.slice(0, axis)), dimProduct(x.slice(axis))], dtype: c.dtype(0) }];
}

function transpose(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  if (!x) return [{ dtype: c.dtype(0) }];
  const perm = c.ints('perm') ?? x.map((_, i) => x.length - 1 - i);
  if (perm.length !== x.length || new Set(perm).size !== perm.length || perm.some((p) => p < 0 || p >= x.length)) {
    c.fail(`perm [${perm.join(',')}] is not a permutation of rank ${x.length}`);
  }
  const v = c.value(0);
  return withValue(c, perm.map((p) => x[p]), c.dtype(0), v ? transposeVal(v, perm) : undefined);
}

function concatRule(c: OpContext): OutInfo[] {
  const shapes = c.node.inputs.map((_, i) => c.shape(i));
  const first = shapes.find((s) => s);
  if (!first || shapes.some((s, i) => c.has(i) && !s)) return [{ dtype: c.dtype(0) }];
  const ax = axisOf(c, c.int('axis', 0), first.length);
  const out = first.slice();
  let sum: number | null = 0;
  for (const s of shapes) {
    if (!s) continue;
    if (s.length !== first.length) c.fail(`inputs have different ranks ${first.length} and ${s.length}`);
    s.forEach((d, i) => {
      if (i !== ax && typeof d === 'number' && typeof out[i] === 'number' && d !== out[i]) c.fail(`inputs differ on axis ${i}: ${out[i]} vs ${d}`);
      if (i !== ax && out[i] === null) out[i] = d;
    });
    sum = typeof s[ax] === 'number' && sum !== null ? sum + (s[ax] as number) : null;
  }
  out[ax] = sum;
  const vals = c.node.inputs.map((_, i) => c.value(i));
  const value = vals.every((v, i) => v || !c.has(i)) ? concat(vals.filter((v): v is Val => !!v), ax) : undefined;
  return withValue(c, out, c.dtype(0), value);
}

function gatherRule(c: OpContext): OutInfo[] {
  const x = c.shape(0), idx = c.shape(1);
  if (!x || !idx) return [{ dtype: c.dtype(0) }];
  const ax = axisOf(c, c.int('axis', 0), x.length);
  const shape = [...x.slice(0, ax), ...idx, ...x.slice(ax + 1)];
  const d = c.value(0), i = c.value(1);
  return withValue(c, shape, c.dtype(0), d && i ? gather(d, i, ax) : undefined);
}

function shapeRule(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  if (!x) return [{ dtype: 'int64' }];
  const r = x.length;
  const clampAxis = (a: number) => Math.max(0, Math.min(r, a < 0 ? a + r : a));
  const start = clampAxis(c.int('start', 0)), end = clampAxis(c.int('end', r));
  const dims = x.slice(start, Math.max(start, end));
  const value: Val | undefined = known(dims) ? { dtype: 'int64', dims: [dims.length], v: dims } : undefined;
  return [{ shape: [dims.length], dtype: 'int64', value }];
}

function unsqueeze(c: OpContext): OutInfo[] {
  const x = c.shape(0), axes = c.intsFrom('axes', 1);
  if (!x || !axes) return [{ dtype: c.dtype(0) }];
  const r = x.length + axes.length;
  const norm = new Set(axes.map((a) => axisOf(c, a, r)));
  if (norm.size !== axes.length) c.fail(`axes [${axes.join(',')}] repeat an axis`);
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) out.push(norm.has(i) ? 1 : x[k++]);
  const v = c.value(0);
  return withValue(c, out, c.dtype(0), v && known(out) ? { ...v, dims: out } : undefined);
}

function squeeze(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  if (!x) return [{ dtype: c.dtype(0) }];
  const axes = c.intsFrom('axes', 1);
  let out: Dim[];
  if (axes) {
    const norm = new Set(axes.map((a) => axisOf(c, a, x.length)));
    for (const a of norm) if (typeof x[a] === 'number' && x[a] !== 1) c.fail(`cannot squeeze axis ${a} of size ${x[a]}`);
    out = x.filter((_, i) => !norm.has(i));
  } else {
    if (!known(x)) return [{ dtype: c.dtype(0) }];
    out = x.filter((d) => d !== 1);
  }
  const v = c.value(0);
  return withValue(c, out, c.dtype(0), v && known(out) ? { ...v, dims: out } : undefined);
}

/** Length of a slice with ONNX's clamping rules, computed without materialising indices. */
function sliceLength(dim: number, start: number, end: number, step: number): number {
  const clampIdx = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
  const s0 = start < 0 ? start + dim : start, e0 = end < 0 ? end + dim : end;
  if (step > 0) return Math.max(0, Math.ceil((clampIdx(e0, 0, dim) - clampIdx(s0, 0, dim)) / step));
  return Math.max(0, Math.ceil((clampIdx(s0, -1, dim - 1) - clampIdx(e0, -1, dim - 1)) / -step));
}

function sliceRule(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  const old = c.opset < 10;
  const starts = old ? c.ints('starts') : c.value(1)?.v;
  const ends = old ? c.ints('ends') : c.value(2)?.v;
  if (!x || !starts || !ends) return [{ shape: x?.map(() => null), dtype: c.dtype(0) }];
  const axes = (old ? c.ints('axes') : c.value(3)?.v) ?? starts.map((_, i) => i);
  const steps = (old ? undefined : c.value(4)?.v) ?? starts.map(() => 1);
  if (axes.length !== starts.length || ends.length !== starts.length) c.fail('starts, ends and axes differ in length');
  const out = x.slice();
  const norm = axes.map((a) => axisOf(c, a, x.length));
  norm.forEach((a, k) => {
    if (!steps[k]) c.fail('slice step is 0');
    const d = x[a];
    out[a] = typeof d === 'number' ? sliceLength(d, starts[k], ends[k], steps[k]) : null;
  });
  const v = c.value(0);
  let value: Val | undefined;
  if (v) {
    // the value is small (≤ MAX_VALUE_ELEMENTS), so its dims are too
    const picks = v.dims.map((d) => Array.from({ length: d }, (_, i) => i));
    norm.forEach((a, k) => { picks[a] = sliceRanges(v.dims[a], starts[k], ends[k], steps[k]); });
    value = sliceVal(v, picks);
  }
  return withValue(c, out, c.dtype(0), value);
}

function split(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  const n = c.node.outputs.length;
  if (!x) return c.node.outputs.map(() => ({ dtype: c.dtype(0) }));
  const ax = axisOf(c, c.int('axis', 0), x.length);
  const d = x[ax];
  let sizes = c.intsFrom('split', 1);
  if (!sizes && typeof d === 'number') {
    const chunk = Math.ceil(d / n);
    if (c.opset < 18 && d % n !== 0) c.fail(`axis of size ${d} does not split evenly into ${n} outputs`);
    sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
  }
  if (sizes && sizes.length !== n) c.fail(`split has ${sizes.length} sizes for ${n} outputs`);
  if (sizes && typeof d === 'number' && sizes.reduce((a, b) => a + b, 0) !== d) c.fail(`split sizes [${sizes.join(',')}] do not sum to ${d}`);
  return c.node.outputs.map((_, i) => ({ shape: x.map((v, k) => (k === ax ? sizes?.[i] ?? null : v)), dtype: c.dtype(0) }));
}

function reduce(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  const dtype = c.node.opType.startsWith('Arg') ? 'int64' : c.dtype(0);
  if (!x) return [{ dtype }];
  const keep = c.int('keepdims', 1) === 1;
  let axes: number[] | undefined;
  if (c.node.opType.startsWith('Arg')) axes = [c.int('axis', 0)];
  else axes = c.ints('axes') ?? (c.has(1) ? c.value(1)?.v : []);
  if (!axes) return [{ shape: keep ? x.map(() => null) : undefined, dtype }];
  if (axes.length === 0) {
    if (c.int('noop_with_empty_axes', 0) === 1) return [same(c)];
    axes = x.map((_, i) => i);
  }
  const set = new Set(axes.map((a) => axisOf(c, a, x.length)));
  const shape = keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i));
  return [{ shape, dtype }];
}

function expand(c: OpContext): OutInfo[] {
  const x = c.shape(0), s = c.value(1);
  const len = c.shape(1)?.[0];
  if (x && !s && typeof len === 'number' && len <= 64) return [{ shape: new Array<Dim>(Math.max(x.length, len)).fill(null), dtype: c.dtype(0) }];
  if (!x || !s) return [{ dtype: c.dtype(0) }];
  const shape = broadcast(c, [x, s.v]);
  const v = c.value(0);
  const small = v && known(shape) && count(shape) <= MAX_VALUE_ELEMENTS;
  return withValue(c, shape, c.dtype(0), small ? elementwise([v, { dtype: v.dtype, dims: shape as number[], v: new Array<number>(count(shape as number[])).fill(0) }], (a) => a, v.dtype) : undefined);
}

function tile(c: OpContext): OutInfo[] {
  const x = c.shape(0), r = c.value(1);
  if (!x || !r) return [{ shape: x?.map(() => null), dtype: c.dtype(0) }];
  if (r.v.length !== x.length) c.fail(`repeats has ${r.v.length} entries for rank ${x.length}`);
  return [{ shape: x.map((d, i) => (typeof d === 'number' ? d * r.v[i] : null)), dtype: c.dtype(0) }];
}

function constantOfShape(c: OpContext): OutInfo[] {
  const s = c.value(0);
  const a = c.node.attrs.value;
  const fill = a?.type === 'tensor' ? valOf(a.value) : undefined;
  const dtype: DType = a?.type === 'tensor' ? a.value.dtype : 'float32';
  if (!s) {
    const rank = c.shape(0)?.[0];
    if (typeof rank === 'number' && rank > 64) c.fail(`shape input has ${rank} entries, more dims than any tensor has`);
    return [{ shape: typeof rank === 'number' ? new Array<Dim>(rank).fill(null) : undefined, dtype }];
  }
  if (s.v.some((d) => d < 0)) c.fail(`shape [${s.v.join(',')}] has a negative dim`);
  const n = count(s.v);
  const value = n <= MAX_VALUE_ELEMENTS ? { dtype, dims: s.v, v: new Array<number>(n).fill(fill?.v[0] ?? 0) } : undefined;
  return [{ shape: s.v, dtype, value }];
}

function range(c: OpContext): OutInfo[] {
  const [s, l, d] = [c.value(0), c.value(1), c.value(2)];
  if (!s || !l || !d) return [{ shape: [null], dtype: c.dtype(0) }];
  if (d.v[0] === 0) c.fail('delta is 0');
  const n = Math.max(0, Math.ceil((l.v[0] - s.v[0]) / d.v[0]));
  const value = n <= MAX_VALUE_ELEMENTS ? { dtype: s.dtype, dims: [n], v: Array.from({ length: n }, (_, i) => s.v[0] + i * d.v[0]) } : undefined;
  return [{ shape: [n], dtype: s.dtype, value }];
}

function pad(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  const pads = c.opset < 11 ? c.ints('pads') ?? c.ints('paddings') : c.value(1)?.v;
  if (!x || !pads) return [{ shape: x?.map(() => null), dtype: c.dtype(0) }];
  const axes = (c.opset >= 18 ? c.value(3)?.v : undefined)?.map((a) => axisOf(c, a, x.length)) ?? x.map((_, i) => i);
  if (pads.length !== 2 * axes.length) c.fail(`pads has ${pads.length} entries for ${axes.length} axes`);
  const out = x.slice();
  axes.forEach((a, k) => { const d = x[a]; out[a] = typeof d === 'number' ? d + pads[k] + pads[k + axes.length] : null; });
  return [{ shape: out, dtype: c.dtype(0) }];
}

function resize(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  if (!x) return [{ dtype: c.dtype(0) }];
  const sizes = c.node.opType === 'Resize' && c.opset >= 11 ? c.value(3)?.v : undefined;
  const scales = c.floats('scales') ?? (c.node.opType === 'Resize' && c.opset >= 11 ? c.value(2)?.v : c.value(1)?.v);
  const axes = c.ints('axes')?.map((a) => axisOf(c, a, x.length)) ?? x.map((_, i) => i);
  const out = x.slice();
  if (sizes && sizes.length) axes.forEach((a, k) => { out[a] = sizes[k]; });
  else if (scales && scales.length) axes.forEach((a, k) => { const d = x[a]; out[a] = typeof d === 'number' ? Math.floor(d * scales[k] + 1e-6) : null; });
  else return [{ shape: x.map(() => null), dtype: c.dtype(0) }];
  return [{ shape: out, dtype: c.dtype(0) }];
}

function whereRule(c: OpContext): OutInfo[] {
  const s = [c.shape(0), c.shape(1), c.shape(2)];
  const shape = s.every((x) => x) ? broadcast(c, s as Dim[][]) : undefined;
  const [k, a, b] = [c.value(0), c.value(1), c.value(2)];
  const value = k && a && b ? elementwise([k, a, b], (x, y, z) => (x ? y : z), a.dtype) : undefined;
  return withValue(c, shape, c.dtype(1), value);
}

function cast(c: OpContext): OutInfo[] {
  const to: DType | undefined = c.node.opType === 'CastLike' ? c.dtype(1) : dtypeOf(c.int('to', 0));
  const v = c.value(0);
  return withValue(c, c.shape(0), to, v && to ? castVal(v, to) : undefined);
}

function topK(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  const k = c.opset < 10 ? c.int('k', 0) : c.value(1)?.v[0];
  if (!x) return [{ dtype: c.dtype(0) }, { dtype: 'int64' }];
  const ax = axisOf(c, c.int('axis', -1), x.length);
  const shape = x.map((d, i) => (i === ax ? k ?? null : d));
  return [{ shape, dtype: c.dtype(0) }, { shape, dtype: 'int64' }];
}

function depthSpace(c: OpContext, toDepth: boolean): OutInfo[] {
  const x = c.shape(0), b = c.int('blocksize', 1);
  if (!x || x.length !== 4) return [{ dtype: c.dtype(0) }];
  const [n, ch, h, w] = x;
  const mul = (d: Dim, f: number) => (typeof d === 'number' ? d * f : null);
  const div = (d: Dim, f: number) => (typeof d === 'number' ? d / f : null);
  return [{ shape: toDepth ? [n, mul(ch, b * b), div(h, b), div(w, b)] : [n, div(ch, b * b), mul(h, b), mul(w, b)], dtype: c.dtype(0) }];
}

const UNARY_OPS = [
  'Relu', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Erf', 'Gelu', 'Softmax', 'LogSoftmax', 'Hardmax', 'Sqrt', 'Exp',
  'Log', 'Neg', 'Abs', 'Reciprocal', 'Identity', 'Clip', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'ThresholdedRelu', 'Mish',
  'Sign', 'Shrink', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh',
  'CumSum', 'Trilu', 'BitwiseNot', 'FastGelu', 'QuickGelu',
];
const BINARY_OPS = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'PRelu', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'Greater', 'LessOrEqual',
  'GreaterOrEqual', 'And', 'Or', 'Xor', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor',
];

/** Rules for elementwise and data-movement ops. */
export const TENSOR_RULES: Record<string, ShapeRule> = {
  ...Object.fromEntries(UNARY_OPS.map((op) => [op, unary])),
  ...Object.fromEntries(BINARY_OPS.map((op) => [op, binary])),
  Not: (c) => [{ shape: c.shape(0), dtype: 'bool' }],
  IsNaN: (c) => [{ shape: c.shape(0), dtype: 'bool' }],
  IsInf: (c) => [{ shape: c.shape(0), dtype: 'bool' }],
  Dropout: (c) => [same(c), { shape: c.shape(0), dtype: 'bool' }],
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Concat: concatRule,
  Gather: gatherRule,
  GatherElements: (c) => [{ shape: c.shape(1), dtype: c.dtype(0) }],
  Shape: shapeRule,
  Size: (c) => { const x = c.shape(0); const n = x ? dimProduct(x) : null; return [{ shape: [], dtype: 'int64', value: n === null ? undefined : { dtype: 'int64', dims: [], v: [n] } }]; },
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Slice: sliceRule,
  Split: split,
  ReduceMean: reduce, ReduceSum: reduce, ReduceMax: reduce, ReduceMin: reduce, ReduceProd: reduce, ReduceL1: reduce, ReduceL2: reduce,
  ReduceLogSum: reduce, ReduceLogSumExp: reduce, ReduceSumSquare: reduce, ArgMax: reduce, ArgMin: reduce,
  Expand: expand,
  Tile: tile,
  ConstantOfShape: constantOfShape,
  Range: range,
  Pad: pad,
  Resize: resize,
  Upsample: resize,
  Where: whereRule,
  Cast: cast,
  CastLike: cast,
  TopK: topK,
  DepthToSpace: (c) => depthSpace(c, false),
  SpaceToDepth: (c) => depthSpace(c, true),
  NonZero: (c) => [{ shape: [c.rank(0) ?? null, null], dtype: 'int64' }],
  QuantizeLinear: (c) => [{ shape: c.shape(0), dtype: c.dtype(2) ?? 'uint8' }],
  DequantizeLinear: (c) => [{ shape: c.shape(0), dtype: c.dtype(1) ?? 'float32' }],
  DynamicQuantizeLinear: (c) => [{ shape: c.shape(0), dtype: 'uint8' }, { shape: [], dtype: 'float32' }, { shape: [], dtype: 'uint8' }],
  StringNormalizer: (c) => {
    const x = c.shape(0);
    const stop = c.node.attrs.stopwords;
    const filters = stop?.type === 'strings' && stop.value.length > 0;
    return [{ shape: x && !filters ? x : x?.map((d, i) => (i === x.length - 1 ? null : d)), dtype: 'string' }];
  },
};
