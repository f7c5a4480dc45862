// SPDX-License-Identifier: Apache-2.0
/** Broadcasting elementwise ops with two or more inputs: arithmetic, comparisons, logic, variadic Sum/Mean/Max/Min, Where, PRelu, Clip. */
import type { DType, Node, Tensor } from '../ir';
import { elementCount } from '../ir';
import type { OpFactory } from './types';
import { Attrs, need } from './types';
import { broadcastShapes, broadcastStrides, fromNumbers, isIntegerType, numbers, scalar } from './tensor';
import { allocF32 } from './arena';

type Fn2 = (a: number, b: number) => number;
type Arr = Float32Array | Float64Array;

/** Computes out[o + j] = f(a[pa + j·ia], b[pb + j·ib]) for j < len: one contiguous run of a broadcast. */
export type Run2 = (out: Arr, o: number, a: ArrayLike<number>, pa: number, ia: number, b: ArrayLike<number>, pb: number, ib: number, len: number) => void;

/** A run over any scalar function (a shared call site: fine for the rarer ops). */
export function runOf(fn: Fn2): Run2 {
  return (out, o, a, pa, ia, b, pb, ib, len) => { for (let j = 0; j < len; j++, pa += ia, pb += ib) out[o + j] = fn(a[pa], b[pb]); };
}

// Dedicated loops for the hot arithmetic ops, so V8 compiles each one with the operator inlined.
const addRun: Run2 = (out, o, a, pa, ia, b, pb, ib, len) => { for (let j = 0; j < len; j++, pa += ia, pb += ib) out[o + j] = a[pa] + b[pb]; };
const subRun: Run2 = (out, o, a, pa, ia, b, pb, ib, len) => { for (let j = 0; j < len; j++, pa += ia, pb += ib) out[o + j] = a[pa] - b[pb]; };
const mulRun: Run2 = (out, o, a, pa, ia, b, pb, ib, len) => { for (let j = 0; j < len; j++, pa += ia, pb += ib) out[o + j] = a[pa] * b[pb]; };
const divRun: Run2 = (out, o, a, pa, ia, b, pb, ib, len) => { for (let j = 0; j < len; j++, pa += ia, pb += ib) out[o + j] = a[pa] / b[pb]; };

/**
 * out = run(a, b) over the broadcast of aDims and bDims. Adjacent axes that are contiguous (or broadcast) in both
 * operands are merged first, so equal shapes, scalars and per-channel operands become a few long runs.
 */
export function broadcast2(a: ArrayLike<number>, aDims: readonly number[], b: ArrayLike<number>, bDims: readonly number[],
  outDims: readonly number[], out: Arr, run: Run2): void {
  const n = out.length;
  if (n === 0) return;
  if (a.length === n && b.length === n) { run(out, 0, a, 0, 1, b, 0, 1, n); return; }
  const sa0 = broadcastStrides(aDims, outDims), sb0 = broadcastStrides(bDims, outDims);
  // Coalesce axis d into d+1 when both operands step through them as one axis.
  const dims: number[] = [], sa: number[] = [], sb: number[] = [];
  for (let d = 0; d < outDims.length; d++) {
    if (outDims[d] === 1) continue;
    const k = dims.length - 1;
    if (k >= 0 && sa[k] === sa0[d] * outDims[d] && sb[k] === sb0[d] * outDims[d]) {
      dims[k] *= outDims[d]; sa[k] = sa0[d]; sb[k] = sb0[d];
    } else { dims.push(outDims[d]); sa.push(sa0[d]); sb.push(sb0[d]); }
  }
  const rank = dims.length;
  if (rank === 0) { run(out, 0, a, 0, 0, b, 0, 0, 1); return; }
  const inner = dims[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let oa = 0, ob = 0;
  for (let o = 0; o < n; o += inner) {
    run(out, o, a, oa, ia, b, ob, ib, inner);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++; oa += sa[d]; ob += sb[d];
      if (idx[d] < dims[d]) break;
      oa -= sa[d] * idx[d]; ob -= sb[d] * idx[d]; idx[d] = 0;
    }
  }
}

/** Applies fn pairwise with broadcasting; result dtype `outType` (the first input's when undefined). */
function apply2(x: Tensor, y: Tensor, fn: Fn2, what: string, outType?: DType, fast?: Run2): Tensor {
  const dims = broadcastShapes([x.dims, y.dims], what);
  const dtype = outType ?? x.dtype;
  if (dtype === 'float32' && x.data instanceof Float32Array && y.data instanceof Float32Array) {
    const out = allocF32(elementCount(dims), false);
    broadcast2(x.data, x.dims, y.data, y.dims, dims, out, fast ?? runOf(fn));
    return { dtype, dims, data: out };
  }
  const out = new Float64Array(elementCount(dims));
  broadcast2(numbers(x), x.dims, numbers(y), y.dims, dims, out, runOf(fn));
  return fromNumbers(dtype, dims, out);
}

/** A two-input arithmetic op; `intFn` replaces `fn` when the inputs are integers (division truncates). */
function arith(fn: Fn2, intFn: Fn2 = fn, fast?: Run2): OpFactory {
  return (node, ctx) => {
    const legacy = legacyBroadcast(node, ctx.opset);
    return (inputs) => {
      const a = need(inputs, 0, node), b = legacy(need(inputs, 1, node), need(inputs, 0, node));
      return [apply2(a, b, isIntegerType(a.dtype) ? intFn : fn, label(node), undefined, fast)];
    };
  };
}

/**
 * Before opset 7, binary ops broadcast only with broadcast=1, aligning B at `axis` (default: trailing);
 * returns B reshaped so numpy broadcasting gives the same result.
 */
function legacyBroadcast(node: Node, opset: number): (b: Tensor, a: Tensor) => Tensor {
  const at = new Attrs(node);
  if (opset >= 7 || at.int('broadcast', 0) !== 1 || !at.has('axis')) return (b) => b;
  const axisAttr = at.int('axis', 0);
  return (b, a) => {
    const axis = axisAttr < 0 ? axisAttr + a.dims.length : axisAttr;
    const tail = a.dims.length - axis - b.dims.length;
    return tail > 0 ? { ...b, dims: [...b.dims, ...new Array<number>(tail).fill(1)] } : b;
  };
}

/** A two-input predicate producing bool. */
function compare(fn: (a: number, b: number) => boolean): OpFactory {
  return (node) => (inputs) => [apply2(need(inputs, 0, node), need(inputs, 1, node), (a, b) => (fn(a, b) ? 1 : 0), label(node), 'bool')];
}

/** A variadic op folding its inputs pairwise with broadcasting; `finish` post-processes (Mean divides). */
function variadic(fn: Fn2, finish?: (t: Tensor, count: number) => Tensor, fast?: Run2): OpFactory {
  return (node) => (inputs) => {
    const present = inputs.filter((t): t is Tensor => t !== undefined);
    if (present.length === 0) need(inputs, 0, node);
    let acc = present[0];
    for (let i = 1; i < present.length; i++) acc = apply2(acc, present[i], fn, label(node), undefined, fast);
    if (present.length === 1) acc = { dtype: acc.dtype, dims: [...acc.dims], data: acc.data.slice() as Tensor['data'] };
    return [finish ? finish(acc, present.length) : acc];
  };
}

const label = (node: Node): string => `${node.opType} node '${node.name}'`;

const pyMod: Fn2 = (a, b) => { const r = a % b; return r !== 0 && (r < 0) !== (b < 0) ? r + b : r; };

export const Add = arith((a, b) => a + b, undefined, addRun);
export const Sub = arith((a, b) => a - b, undefined, subRun);
export const Mul = arith((a, b) => a * b, undefined, mulRun);
export const Div = arith((a, b) => a / b, (a, b) => Math.trunc(a / b), divRun);
export const Pow = arith(Math.pow, (a, b) => Math.trunc(Math.pow(a, b)));
export const Equal = compare((a, b) => a === b);
export const Less = compare((a, b) => a < b);
export const LessOrEqual = compare((a, b) => a <= b);
export const Greater = compare((a, b) => a > b);
export const GreaterOrEqual = compare((a, b) => a >= b);
export const And = compare((a, b) => a !== 0 && b !== 0);
export const Or = compare((a, b) => a !== 0 || b !== 0);
export const Xor = compare((a, b) => (a !== 0) !== (b !== 0));
export const Sum = variadic((a, b) => a + b, undefined, addRun);
export const Max = variadic((a, b) => (a >= b || Number.isNaN(a) ? a : b));
export const Min = variadic((a, b) => (a <= b || Number.isNaN(a) ? a : b));
export const Mean = variadic((a, b) => a + b, (t, count) => {
  const v = numbers(t);
  return fromNumbers(t.dtype, t.dims, Float64Array.from(v, (x) => x / count));
});

export const Mod: OpFactory = (node) => {
  const fmod = new Attrs(node).int('fmod', 0) === 1;
  return arith(fmod ? (a, b) => a % b : pyMod)(node, { opset: 0, constants: [] });
};

/** PRelu: slope broadcast unidirectionally onto X. */
export const PRelu: OpFactory = (node, ctx) => (inputs) => {
  const x = need(inputs, 0, node);
  let slope = need(inputs, 1, node);
  // Before opset 7 a 1-D slope of length C is per channel (axis 1), not numpy-broadcast.
  if (ctx.opset < 7 && slope.dims.length === 1 && x.dims.length > 2 && slope.dims[0] === x.dims[1]) {
    slope = { ...slope, dims: [slope.dims[0], ...new Array<number>(x.dims.length - 2).fill(1)] };
  }
  return [apply2(x, slope, (v, s) => (v < 0 ? v * s : v), label(node))];
};

/** Where(cond, X, Y) with three-way broadcasting. */
export const Where: OpFactory = (node) => (inputs) => {
  const c = need(inputs, 0, node), x = need(inputs, 1, node), y = need(inputs, 2, node);
  const dims = broadcastShapes([c.dims, x.dims, y.dims], label(node));
  const n = elementCount(dims);
  const cv = numbers(c), xv = numbers(x), yv = numbers(y);
  const sc = broadcastStrides(c.dims, dims), sx = broadcastStrides(x.dims, dims), sy = broadcastStrides(y.dims, dims);
  const out = new Float64Array(n);
  const idx = new Array<number>(dims.length).fill(0);
  let oc = 0, ox = 0, oy = 0;
  for (let i = 0; i < n; i++) {
    out[i] = cv[oc] ? xv[ox] : yv[oy];
    for (let d = dims.length - 1; d >= 0; d--) {
      idx[d]++; oc += sc[d]; ox += sx[d]; oy += sy[d];
      if (idx[d] < dims[d]) break;
      oc -= sc[d] * idx[d]; ox -= sx[d] * idx[d]; oy -= sy[d] * idx[d]; idx[d] = 0;
    }
  }
  return [fromNumbers(x.dtype, dims, out)];
};

/** Clip: bounds from attributes before opset 11, from optional inputs from 11 on. */
export const Clip: OpFactory = (node, ctx) => {
  const a = new Attrs(node);
  const attrMin = a.float('min', -Infinity), attrMax = a.float('max', Infinity);
  return (inputs) => {
    const x = need(inputs, 0, node);
    const lo = ctx.opset < 11 ? attrMin : inputs[1] ? scalar(inputs[1]) : -Infinity;
    const hi = ctx.opset < 11 ? attrMax : inputs[2] ? scalar(inputs[2]) : Infinity;
    const v = numbers(x);
    const out = x.data instanceof Float32Array ? new Float32Array(v.length) : new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) { const e = v[i]; out[i] = e < lo ? lo : e > hi ? hi : e; }
    return [out instanceof Float32Array ? { dtype: x.dtype, dims: [...x.dims], data: out } : fromNumbers(x.dtype, x.dims, out)];
  };
};
