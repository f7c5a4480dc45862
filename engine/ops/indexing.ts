// SPDX-License-Identifier: Apache-2.0
/** Index-driven ops: GatherElements, ScatterElements, ScatterND, TopK, CumSum, Trilu, NonZero, OneHot. */
import { QuantLensError } from '../errors';
import type { Node, Tensor } from '../ir';
import { elementCount } from '../ir';
import { fromNumbers, intList, normAxis, numbers, scalar, stridesOf, zeros } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';

type Elems = { [i: number]: unknown; length: number };
const label = (node: Node): string => `${node.opType} node '${node.name}'`;

export const GatherElements: OpFactory = (node) => {
  const axisAttr = new Attrs(node).int('axis', 0);
  return (inputs) => {
    const x = need(inputs, 0, node), ind = need(inputs, 1, node);
    const r = x.dims.length, axis = normAxis(axisAttr, r, label(node));
    if (ind.dims.length !== r) throw new QuantLensError('shape', `${label(node)}: indices rank ${ind.dims.length} ≠ data rank ${r}`);
    const out = zeros(x.dtype, ind.dims);
    const idx = numbers(ind), xs = stridesOf(x.dims), os = stridesOf(ind.dims);
    const src = x.data as unknown as Elems, dst = out.data as unknown as Elems;
    const n = x.dims[axis];
    for (let o = 0; o < idx.length; o++) {
      let off = 0, rem = o;
      for (let d = 0; d < r; d++) {
        let c = Math.floor(rem / os[d]); rem -= c * os[d];
        if (d === axis) {
          c = idx[o] < 0 ? idx[o] + n : idx[o];
          if (c < 0 || c >= n) throw new QuantLensError('shape', `${label(node)}: index ${idx[o]} out of range for size ${n}`);
        }
        off += c * xs[d];
      }
      dst[o] = src[off];
    }
    return [out];
  };
};

export const TopK: OpFactory = (node) => {
  const a = new Attrs(node);
  const axisAttr = a.int('axis', -1), largest = a.int('largest', 1) === 1;
  return (inputs) => {
    const x = need(inputs, 0, node), k = scalar(need(inputs, 1, node));
    const axis = normAxis(axisAttr, x.dims.length, label(node));
    const outer = elementCount(x.dims.slice(0, axis)), len = x.dims[axis], inner = elementCount(x.dims.slice(axis + 1));
    if (k < 0 || k > len) throw new QuantLensError('shape', `${label(node)}: k=${k} for axis size ${len}`);
    const v = numbers(x);
    const vals = new Float64Array(outer * k * inner), idxs = new Float64Array(outer * k * inner);
    const order = Array.from({ length: len }, (_, i) => i);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      const at = (j: number): number => v[(o * len + j) * inner + i];
      // Ties keep the lower index first, as onnxruntime does.
      order.sort((p, q) => (largest ? at(q) - at(p) : at(p) - at(q)) || p - q);
      for (let j = 0; j < k; j++) { const dst = (o * k + j) * inner + i; vals[dst] = at(order[j]); idxs[dst] = order[j]; }
      order.sort((p, q) => p - q);
    }
    const dims = x.dims.map((d, i) => (i === axis ? k : d));
    return [fromNumbers(x.dtype, dims, vals), fromNumbers('int64', dims, idxs)];
  };
};

export const CumSum: OpFactory = (node) => {
  const a = new Attrs(node);
  const exclusive = a.int('exclusive', 0) === 1, reverse = a.int('reverse', 0) === 1;
  return (inputs) => {
    const x = need(inputs, 0, node);
    const axis = normAxis(scalar(need(inputs, 1, node)), x.dims.length, label(node));
    const outer = elementCount(x.dims.slice(0, axis)), len = x.dims[axis], inner = elementCount(x.dims.slice(axis + 1));
    const v = numbers(x), out = new Float64Array(v.length);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let acc = 0;
      for (let s = 0; s < len; s++) {
        const j = reverse ? len - 1 - s : s, p = (o * len + j) * inner + i;
        if (exclusive) { out[p] = acc; acc += v[p]; } else { acc += v[p]; out[p] = acc; }
      }
    }
    return [fromNumbers(x.dtype, x.dims, out)];
  };
};

export const Trilu: OpFactory = (node) => {
  const upper = new Attrs(node).int('upper', 1) === 1;
  return (inputs) => {
    const x = need(inputs, 0, node), k = inputs[1] ? scalar(inputs[1]) : 0;
    const r = x.dims.length;
    if (r < 2) throw new QuantLensError('shape', `${label(node)}: input rank ${r} < 2`);
    const R = x.dims[r - 2], C = x.dims[r - 1];
    const out = zeros(x.dtype, x.dims);
    const src = x.data as unknown as Elems, dst = out.data as unknown as Elems;
    for (let b = 0; b < elementCount(x.dims) / (R * C || 1); b++) {
      for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) {
        const keep = upper ? j - i >= k : j - i <= k;
        if (keep) dst[b * R * C + i * C + j] = src[b * R * C + i * C + j];
      }
    }
    return [out];
  };
};

export const NonZero: OpFactory = (node) => (inputs) => {
  const x = need(inputs, 0, node);
  const v = numbers(x), r = x.dims.length, st = stridesOf(x.dims);
  const hits: number[] = [];
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) hits.push(i);
  const out = new Float64Array(r * hits.length);
  hits.forEach((flat, h) => {
    let rem = flat;
    for (let d = 0; d < r; d++) { const c = Math.floor(rem / st[d]); rem -= c * st[d]; out[d * hits.length + h] = c; }
  });
  return [fromNumbers('int64', [r, hits.length], out)];
};

export const OneHot: OpFactory = (node) => {
  const axisAttr = new Attrs(node).int('axis', -1);
  return (inputs) => {
    const ind = need(inputs, 0, node), depth = scalar(need(inputs, 1, node)), values = need(inputs, 2, node);
    const [off, on] = intListOrFloat(values);
    const rank = ind.dims.length + 1;
    const axis = normAxis(axisAttr, rank, label(node));
    const outer = elementCount(ind.dims.slice(0, axis)), inner = elementCount(ind.dims.slice(axis));
    const idx = numbers(ind), out = new Float64Array(outer * depth * inner).fill(off);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let c = idx[o * inner + i];
      if (c < 0) c += depth;
      if (c >= 0 && c < depth) out[(o * depth + c) * inner + i] = on;
    }
    const dims = [...ind.dims.slice(0, axis), depth, ...ind.dims.slice(axis)];
    return [fromNumbers(values.dtype, dims, out)];
  };
};

function intListOrFloat(t: Tensor): [number, number] {
  const v = t.data instanceof Float32Array ? Array.from(t.data) : intList(t);
  return [v[0], v[1]];
}

type Reduction = (old: number, upd: number) => number;
const REDUCTIONS: Record<string, Reduction> = {
  none: (_o, u) => u, add: (o, u) => o + u, mul: (o, u) => o * u, max: (o, u) => Math.max(o, u), min: (o, u) => Math.min(o, u),
};

function reductionOf(a: Attrs): Reduction {
  const name = a.string('reduction', 'none');
  const r = REDUCTIONS[name];
  if (!r) throw a.unsupported(`reduction '${name}'`);
  return r;
}

/** ScatterElements (and its older name Scatter): updates[i…] go to data at index[i…] along `axis`. */
export const ScatterElements: OpFactory = (node) => {
  const a = new Attrs(node);
  const axisAttr = a.int('axis', 0), reduce = reductionOf(a);
  return (inputs) => {
    const x = need(inputs, 0, node), ind = need(inputs, 1, node), upd = need(inputs, 2, node);
    const r = x.dims.length, axis = normAxis(axisAttr, r, label(node));
    const v = Float64Array.from(numbers(x)), idx = numbers(ind), u = numbers(upd);
    const xs = stridesOf(x.dims), is = stridesOf(ind.dims), n = x.dims[axis];
    for (let o = 0; o < idx.length; o++) {
      let off = 0, rem = o;
      for (let d = 0; d < r; d++) {
        let c = Math.floor(rem / is[d]); rem -= c * is[d];
        if (d === axis) {
          c = idx[o] < 0 ? idx[o] + n : idx[o];
          if (c < 0 || c >= n) throw new QuantLensError('shape', `${label(node)}: index ${idx[o]} out of range for size ${n}`);
        }
        off += c * xs[d];
      }
      v[off] = reduce(v[off], u[o]);
    }
    return [fromNumbers(x.dtype, x.dims, v)];
  };
};

/** ScatterND: each index tuple (last axis of `indices`) addresses a slice of data replaced by (or reduced with) updates. */
export const ScatterND: OpFactory = (node) => {
  const reduce = reductionOf(new Attrs(node));
  return (inputs) => {
    const x = need(inputs, 0, node), ind = need(inputs, 1, node), upd = need(inputs, 2, node);
    const k = ind.dims[ind.dims.length - 1], tuples = elementCount(ind.dims.slice(0, -1));
    const slice = elementCount(x.dims.slice(k)), xs = stridesOf(x.dims);
    const v = Float64Array.from(numbers(x)), idx = numbers(ind), u = numbers(upd);
    for (let t = 0; t < tuples; t++) {
      let off = 0;
      for (let d = 0; d < k; d++) {
        const n = x.dims[d], c = idx[t * k + d] < 0 ? idx[t * k + d] + n : idx[t * k + d];
        if (c < 0 || c >= n) throw new QuantLensError('shape', `${label(node)}: index ${idx[t * k + d]} out of range for size ${n}`);
        off += c * xs[d];
      }
      for (let j = 0; j < slice; j++) v[off + j] = reduce(v[off + j], u[t * slice + j]);
    }
    return [fromNumbers(x.dtype, x.dims, v)];
  };
};
