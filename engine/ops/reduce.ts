// SPDX-License-Identifier: Apache-2.0
/** Reductions (ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp, attribute and input axes forms) and ArgMax/ArgMin. */
import type { Node, Tensor } from '../ir';
import { elementCount } from '../ir';
import { broadcastStrides, fromNumbers, intList, isIntegerType, normAxis, numbers } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';

interface Reducer {
  init: number;
  step: (acc: number, v: number) => number;
  done: (acc: number, count: number) => number;
}

const id = (acc: number): number => acc;
const REDUCERS: Record<string, Reducer> = {
  ReduceSum: { init: 0, step: (a, v) => a + v, done: id },
  ReduceMean: { init: 0, step: (a, v) => a + v, done: (a, n) => a / n },
  ReduceMax: { init: -Infinity, step: (a, v) => (v > a ? v : a), done: id },
  ReduceMin: { init: Infinity, step: (a, v) => (v < a ? v : a), done: id },
  ReduceProd: { init: 1, step: (a, v) => a * v, done: id },
  ReduceL1: { init: 0, step: (a, v) => a + Math.abs(v), done: id },
  ReduceL2: { init: 0, step: (a, v) => a + v * v, done: (a) => Math.sqrt(a) },
  ReduceSumSquare: { init: 0, step: (a, v) => a + v * v, done: id },
  ReduceLogSum: { init: 0, step: (a, v) => a + v, done: (a) => Math.log(a) },
  ReduceLogSumExp: { init: 0, step: (a, v) => a + Math.exp(v), done: (a) => Math.log(a) },
};

/** Reduces `x` over `axes` (all when empty); output dims keep 1s when `keep`. */
function reduce(x: Tensor, axes: number[], keep: boolean, r: Reducer, what: string): Tensor {
  const rank = x.dims.length;
  const ax = axes.length ? axes.map((a) => normAxis(a, rank, what)) : x.dims.map((_, i) => i);
  const keptDims = x.dims.map((d, i) => (ax.includes(i) ? 1 : d));
  const n = elementCount(keptDims), count = elementCount(x.dims) / Math.max(1, n);
  const acc = new Float64Array(n).fill(r.init);
  const v = numbers(x);
  const st = broadcastStrides(keptDims, x.dims);
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  for (let i = 0; i < v.length; i++) {
    acc[o] = r.step(acc[o], v[i]);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++; o += st[d];
      if (idx[d] < x.dims[d]) break;
      o -= st[d] * idx[d]; idx[d] = 0;
    }
  }
  for (let i = 0; i < n; i++) acc[i] = r.done(acc[i], count);
  const dims = keep ? keptDims : x.dims.filter((_, i) => !ax.includes(i));
  if (isIntegerType(x.dtype)) return fromNumbers(x.dtype, dims, acc);
  return { dtype: x.dtype, dims, data: Float32Array.from(acc) };
}

/** A reduction op; axes come from input 1 from opset `inputSince` on (13 for ReduceSum, 18 for the others). */
function reduceOp(opType: keyof typeof REDUCERS, inputSince: number): OpFactory {
  return (node: Node, ctx) => {
    const a = new Attrs(node);
    const keep = a.int('keepdims', 1) === 1, noop = a.int('noop_with_empty_axes', 0) === 1;
    const attrAxes = a.ints('axes') ?? [];
    const what = `${node.opType} node '${node.name}'`;
    return (inputs) => {
      const x = need(inputs, 0, node);
      const axes = ctx.opset >= inputSince ? (inputs[1] ? intList(inputs[1]) : []) : attrAxes;
      if (axes.length === 0 && noop && ctx.opset >= inputSince) return [x];
      return [reduce(x, axes, keep, REDUCERS[opType], what)];
    };
  };
}

export const ReduceSum = reduceOp('ReduceSum', 13);
export const ReduceMean = reduceOp('ReduceMean', 18);
export const ReduceMax = reduceOp('ReduceMax', 18);
export const ReduceMin = reduceOp('ReduceMin', 18);
export const ReduceProd = reduceOp('ReduceProd', 18);
export const ReduceL1 = reduceOp('ReduceL1', 18);
export const ReduceL2 = reduceOp('ReduceL2', 18);
export const ReduceSumSquare = reduceOp('ReduceSumSquare', 18);
export const ReduceLogSum = reduceOp('ReduceLogSum', 18);
export const ReduceLogSumExp = reduceOp('ReduceLogSumExp', 18);

function argOp(max: boolean): OpFactory {
  return (node) => {
    const a = new Attrs(node);
    const axisAttr = a.int('axis', 0), keep = a.int('keepdims', 1) === 1, last = a.int('select_last_index', 0) === 1;
    return (inputs) => {
      const x = need(inputs, 0, node);
      const axis = normAxis(axisAttr, x.dims.length, `${node.opType} node '${node.name}'`);
      const outer = elementCount(x.dims.slice(0, axis)), len = x.dims[axis], inner = elementCount(x.dims.slice(axis + 1));
      const v = numbers(x), res = new Float64Array(outer * inner);
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
        let best = v[o * len * inner + i], at = 0;
        for (let j = 1; j < len; j++) {
          const e = v[(o * len + j) * inner + i];
          if (max ? (e > best || (last && e === best)) : (e < best || (last && e === best))) { best = e; at = j; }
        }
        res[o * inner + i] = at;
      }
      const dims = keep ? x.dims.map((d, i) => (i === axis ? 1 : d)) : x.dims.filter((_, i) => i !== axis);
      return [fromNumbers('int64', dims, res)];
    };
  };
}

export const ArgMax = argOp(true);
export const ArgMin = argOp(false);
