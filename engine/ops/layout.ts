// SPDX-License-Identifier: Apache-2.0
/** Data-movement ops for any element type: Transpose, Concat, Split, Slice, Gather, Tile, Pad, DepthToSpace, SpaceToDepth. */
import { QuantLensError } from '../errors';
import type { Node, Tensor } from '../ir';
import { elementCount } from '../ir';
import { intList, normAxis, numbers, reshaped, scalar, stridesOf, zeros } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';

/** Index access over any TensorData (typed arrays, BigInt arrays). */
type Elems = { [i: number]: unknown; length: number };
const elems = (t: Tensor): Elems => t.data as unknown as Elems;
const label = (node: Node): string => `${node.opType} node '${node.name}'`;

/** Permutes axes; exported for the space/depth ops. */
export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  const r = x.dims.length;
  const dims = perm.map((p) => x.dims[p]);
  const out = zeros(x.dtype, dims);
  const n = elementCount(dims);
  if (n === 0) return out;
  const inStr = stridesOf(x.dims);
  const st = perm.map((p) => inStr[p]);
  const src = elems(x), dst = elems(out);
  if (r === 0) { dst[0] = src[0]; return out; }
  const inner = dims[r - 1], is = st[r - 1];
  const idx = new Array<number>(r).fill(0);
  let off = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0, p = off; j < inner; j++, p += is) dst[o + j] = src[p];
    for (let d = r - 2; d >= 0; d--) {
      idx[d]++; off += st[d];
      if (idx[d] < dims[d]) break;
      off -= st[d] * idx[d]; idx[d] = 0;
    }
  }
  return out;
}

export const Transpose: OpFactory = (node) => {
  const perm = new Attrs(node).ints('perm');
  return (inputs) => {
    const x = need(inputs, 0, node);
    const p = perm ?? x.dims.map((_, i) => x.dims.length - 1 - i);
    if (p.length !== x.dims.length || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
      throw new QuantLensError('shape', `${label(node)}: perm [${p}] does not fit rank ${x.dims.length}`);
    }
    return [transpose(x, p)];
  };
};

/** Copies `count` contiguous elements (typed-array set when possible). */
function copy(dst: Tensor, dOff: number, src: Tensor, sOff: number, count: number): void {
  const d = dst.data, s = src.data;
  if (ArrayBuffer.isView(d) && ArrayBuffer.isView(s) && d.constructor === s.constructor) {
    (d as Float32Array).set((s as Float32Array).subarray(sOff, sOff + count), dOff);
  } else {
    const de = elems(dst), se = elems(src);
    for (let i = 0; i < count; i++) de[dOff + i] = se[sOff + i];
  }
}

export const Concat: OpFactory = (node) => {
  const axisAttr = new Attrs(node).int('axis', 0);
  return (inputs) => {
    const xs = inputs.filter((t): t is Tensor => t !== undefined);
    const first = need(xs, 0, node);
    const axis = normAxis(axisAttr, first.dims.length, label(node));
    const dims = [...first.dims];
    dims[axis] = 0;
    for (const t of xs) {
      if (t.dims.length !== dims.length || t.dims.some((d, i) => i !== axis && d !== first.dims[i])) {
        throw new QuantLensError('shape', `${label(node)}: cannot concatenate [${first.dims}] and [${t.dims}] on axis ${axis}`);
      }
      dims[axis] += t.dims[axis];
    }
    const out = zeros(first.dtype, dims);
    const outer = elementCount(dims.slice(0, axis)), innerOut = elementCount(dims.slice(axis));
    let at = 0;
    for (const t of xs) {
      const block = elementCount(t.dims.slice(axis));
      for (let o = 0; o < outer; o++) copy(out, o * innerOut + at, t, o * block, block);
      at += block;
    }
    return [out];
  };
};

/** Copies x[..., start:start+len, ...] on `axis`. */
function sliceAxis(x: Tensor, axis: number, start: number, len: number): Tensor {
  const dims = [...x.dims];
  dims[axis] = len;
  const out = zeros(x.dtype, dims);
  const outer = elementCount(x.dims.slice(0, axis)), inner = elementCount(x.dims.slice(axis + 1));
  for (let o = 0; o < outer; o++) copy(out, o * len * inner, x, (o * x.dims[axis] + start) * inner, len * inner);
  return out;
}

export const Split: OpFactory = (node, ctx) => {
  const a = new Attrs(node);
  const axisAttr = a.int('axis', 0), attrSplit = a.ints('split'), numOutputs = a.has('num_outputs') ? a.int('num_outputs', 0) : undefined;
  return (inputs) => {
    const x = need(inputs, 0, node);
    const axis = normAxis(axisAttr, x.dims.length, label(node));
    const total = x.dims[axis];
    let sizes = ctx.opset < 13 ? attrSplit : inputs[1] ? intList(inputs[1]) : undefined;
    if (!sizes) {
      const parts = numOutputs ?? node.outputs.length;
      const chunk = Math.ceil(total / parts);
      sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, total - i * chunk)));
    }
    if (sizes.reduce((s, v) => s + v, 0) !== total) throw new QuantLensError('shape', `${label(node)}: split [${sizes}] does not sum to ${total}`);
    let at = 0;
    return sizes.map((len) => { const t = sliceAxis(x, axis, at, len); at += len; return t; });
  };
};

export const Slice: OpFactory = (node, ctx) => {
  const a = new Attrs(node);
  const attrStarts = a.ints('starts'), attrEnds = a.ints('ends'), attrAxes = a.ints('axes');
  return (inputs) => {
    const x = need(inputs, 0, node);
    const r = x.dims.length;
    const legacy = ctx.opset < 10;
    const starts = legacy ? attrStarts : intList(need(inputs, 1, node));
    const ends = legacy ? attrEnds : intList(need(inputs, 2, node));
    if (!starts || !ends) throw new QuantLensError('model-format', `${label(node)}: starts/ends missing`);
    const axes = (legacy ? attrAxes : inputs[3] ? intList(inputs[3]) : undefined) ?? starts.map((_, i) => i);
    const steps = !legacy && inputs[4] ? intList(inputs[4]) : starts.map(() => 1);
    const begin = new Array<number>(r).fill(0), step = new Array<number>(r).fill(1), dims = [...x.dims];
    axes.forEach((ax0, i) => {
      const ax = normAxis(ax0, r, label(node)), n = x.dims[ax], s = steps[i];
      if (s === 0) throw new QuantLensError('model-format', `${label(node)}: step 0`);
      let b = starts[i] < 0 ? starts[i] + n : starts[i];
      let e = ends[i] < 0 ? ends[i] + n : ends[i];
      if (s > 0) { b = Math.min(Math.max(b, 0), n); e = Math.min(Math.max(e, 0), n); } else { b = Math.min(Math.max(b, 0), n - 1); e = Math.min(Math.max(e, -1), n - 1); }
      begin[ax] = b; step[ax] = s;
      dims[ax] = Math.max(0, Math.ceil((e - b) / s));
    });
    const out = zeros(x.dtype, dims);
    const n = elementCount(dims);
    if (n === 0) return [out];
    const inStr = stridesOf(x.dims), src = elems(x), dst = elems(out);
    const idx = new Array<number>(r).fill(0);
    let off = 0;
    for (let d = 0; d < r; d++) off += begin[d] * inStr[d];
    for (let o = 0; o < n; o++) {
      dst[o] = src[off];
      for (let d = r - 1; d >= 0; d--) {
        idx[d]++; off += step[d] * inStr[d];
        if (idx[d] < dims[d]) break;
        off -= step[d] * inStr[d] * idx[d]; idx[d] = 0;
      }
    }
    return [out];
  };
};

export const Gather: OpFactory = (node) => {
  const axisAttr = new Attrs(node).int('axis', 0);
  return (inputs) => {
    const x = need(inputs, 0, node), ind = need(inputs, 1, node);
    const axis = normAxis(axisAttr, x.dims.length, label(node));
    const n = x.dims[axis], idx = numbers(ind);
    const outer = elementCount(x.dims.slice(0, axis)), inner = elementCount(x.dims.slice(axis + 1));
    const out = zeros(x.dtype, [...x.dims.slice(0, axis), ...ind.dims, ...x.dims.slice(axis + 1)]);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < idx.length; j++) {
        const k = idx[j] < 0 ? idx[j] + n : idx[j];
        if (k < 0 || k >= n) throw new QuantLensError('shape', `${label(node)}: index ${idx[j]} out of range for size ${n}`);
        copy(out, (o * idx.length + j) * inner, x, (o * n + k) * inner, inner);
      }
    }
    return [out];
  };
};

export const Tile: OpFactory = (node) => (inputs) => {
  const x = need(inputs, 0, node), reps = intList(need(inputs, 1, node));
  if (reps.length !== x.dims.length) throw new QuantLensError('shape', `${label(node)}: repeats [${reps}] for rank ${x.dims.length}`);
  return [remap(x, x.dims.map((d, i) => d * reps[i]), (ax, o) => o % x.dims[ax], x)];
};

/** Builds an output of `dims` where each axis maps an output coordinate to a source coordinate (−1 = fill value). */
function remap(x: Tensor, dims: number[], map: (axis: number, o: number) => number, fillFrom: Tensor, fill?: unknown): Tensor {
  const r = dims.length;
  const out = zeros(fillFrom.dtype, dims);
  const n = elementCount(dims);
  if (n === 0) return out;
  const tables = dims.map((d, ax) => Int32Array.from({ length: d }, (_, o) => map(ax, o)));
  const inStr = stridesOf(x.dims), src = elems(x), dst = elems(out);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o++) {
    let off = 0, inside = true;
    for (let d = 0; d < r; d++) { const s = tables[d][idx[d]]; if (s < 0) { inside = false; break; } off += s * inStr[d]; }
    dst[o] = inside ? src[off] : fill;
    for (let d = r - 1; d >= 0; d--) { if (++idx[d] < dims[d]) break; idx[d] = 0; }
  }
  return out;
}

export const Pad: OpFactory = (node, ctx) => {
  const a = new Attrs(node);
  const mode = a.string('mode', 'constant');
  if (!['constant', 'reflect', 'edge', 'wrap'].includes(mode)) throw a.unsupported(`mode '${mode}'`);
  const attrPads = a.ints('pads') ?? a.ints('paddings'), attrValue = a.float('value', 0);
  return (inputs) => {
    const x = need(inputs, 0, node);
    const r = x.dims.length;
    let pads = ctx.opset < 11 ? attrPads : intList(need(inputs, 1, node));
    if (!pads) throw new QuantLensError('model-format', `${label(node)}: pads missing`);
    if (ctx.opset >= 18 && inputs[3]) {
      const axes = intList(inputs[3]).map((v) => normAxis(v, r, label(node)));
      const full = new Array<number>(2 * r).fill(0);
      axes.forEach((ax, i) => { full[ax] = pads![i]; full[ax + r] = pads![i + axes.length]; });
      pads = full;
    }
    if (pads.length !== 2 * r) throw new QuantLensError('shape', `${label(node)}: ${pads.length} pads for rank ${r}`);
    const value = ctx.opset < 11 ? attrValue : inputs[2] && elementCount(inputs[2].dims) > 0 ? scalar(inputs[2]) : 0;
    const dims = x.dims.map((d, i) => d + pads![i] + pads![i + r]);
    const map = (ax: number, o: number): number => {
      const n = x.dims[ax];
      let s = o - pads![ax];
      if (s >= 0 && s < n) return s;
      if (mode === 'constant' || n === 0) return -1;
      if (mode === 'edge') return s < 0 ? 0 : n - 1;
      if (mode === 'wrap') return ((s % n) + n) % n;
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      s = ((s % period) + period) % period;
      return s < n ? s : period - s;
    };
    const fill = typeof (x.data as Elems)[0] === 'bigint' ? BigInt(Math.trunc(value)) : value;
    return [remap(x, dims, map, x, fill)];
  };
};

export const DepthToSpace: OpFactory = (node) => {
  const a = new Attrs(node);
  const b = a.int('blocksize', 0), mode = a.string('mode', 'DCR');
  return (inputs) => {
    const x = need(inputs, 0, node);
    const [N, C, H, W] = x.dims;
    const c = C / (b * b);
    if (x.dims.length !== 4 || !Number.isInteger(c)) throw new QuantLensError('shape', `${label(node)}: [${x.dims}] with blocksize ${b}`);
    const t = mode === 'CRD'
      ? transpose(reshaped(x, [N, c, b, b, H, W]), [0, 1, 4, 2, 5, 3])
      : transpose(reshaped(x, [N, b, b, c, H, W]), [0, 3, 4, 1, 5, 2]);
    return [reshaped(t, [N, c, H * b, W * b])];
  };
};

export const SpaceToDepth: OpFactory = (node) => {
  const b = new Attrs(node).int('blocksize', 0);
  return (inputs) => {
    const x = need(inputs, 0, node);
    const [N, C, H, W] = x.dims;
    if (x.dims.length !== 4 || H % b !== 0 || W % b !== 0) throw new QuantLensError('shape', `${label(node)}: [${x.dims}] with blocksize ${b}`);
    const t = transpose(reshaped(x, [N, C, H / b, b, W / b, b]), [0, 3, 5, 1, 2, 4]);
    return [reshaped(t, [N, C * b * b, H / b, W / b])];
  };
};
