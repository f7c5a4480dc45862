// SPDX-License-Identifier: Apache-2.0
/** MaxPool (with Indices), AveragePool (count_include_pad, ceil_mode, dilations), GlobalAveragePool, GlobalMaxPool. 1-D and 2-D run as 3-D with unit axes. */
import { QuantLensError } from '../errors';
import type { Tensor } from '../ir';
import { elementCount } from '../ir';
import { fromNumbers, isIntegerType, numbers, zeros } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';
import type { Window } from './window';
import { parseWindow, resolveWindow } from './window';

type Reduce = 'max' | 'avg';

/** Per-axis window bounds for 3-D iteration. */
interface Axis { inSize: number; out: number; k: number; s: number; d: number; pb: number; pe: number }

function axes3(win: Window): Axis[] {
  const r = win.inSize.length;
  const ax: Axis[] = [];
  for (let i = 0; i < 3 - r; i++) ax.push({ inSize: 1, out: 1, k: 1, s: 1, d: 1, pb: 0, pe: 0 });
  for (let i = 0; i < r; i++) {
    ax.push({ inSize: win.inSize[i], out: win.out[i], k: win.kernel[i], s: win.strides[i], d: win.dilations[i], pb: win.padBegin[i], pe: win.padEnd[i] });
  }
  return ax;
}

/** Pools every (n, c) plane; returns values and, for max, the flat argmax indices. */
function pool(x: ArrayLike<number>, planes: number, win: Window, mode: Reduce, includePad: boolean): { y: Float64Array; idx: Float64Array } {
  const [A, B, C] = axes3(win);
  const inPlane = A.inSize * B.inSize * C.inSize, outPlane = A.out * B.out * C.out;
  const y = new Float64Array(planes * outPlane), idx = new Float64Array(mode === 'max' ? planes * outPlane : 0);
  let o = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * inPlane;
    for (let a = 0; a < A.out; a++) for (let b = 0; b < B.out; b++) for (let c = 0; c < C.out; c++, o++) {
      const a0 = a * A.s - A.pb, b0 = b * B.s - B.pb, c0 = c * C.s - C.pb;
      let best = -Infinity, bestAt = -1, sum = 0, n = 0, nPad = 1;
      if (includePad) nPad = padCount(a0, A) * padCount(b0, B) * padCount(c0, C);
      for (let i = 0; i < A.k; i++) {
        const ia = a0 + i * A.d;
        if (ia < 0 || ia >= A.inSize) continue;
        for (let j = 0; j < B.k; j++) {
          const ib = b0 + j * B.d;
          if (ib < 0 || ib >= B.inSize) continue;
          const row = (ia * B.inSize + ib) * C.inSize;
          for (let l = 0; l < C.k; l++) {
            const ic = c0 + l * C.d;
            if (ic < 0 || ic >= C.inSize) continue;
            const v = x[base + row + ic];
            if (mode === 'max') { if (v > best || bestAt < 0) { best = v; bestAt = base + row + ic; } } else { sum += v; n++; }
          }
        }
      }
      if (mode === 'max') { y[o] = best; idx[o] = bestAt; } else y[o] = sum / (includePad ? nPad : n);
    }
  }
  return { y, idx };
}

/** Window positions inside input + padding (count_include_pad divisor), as onnxruntime counts them. */
function padCount(start: number, ax: Axis): number {
  const limit = ax.inSize + ax.pe;
  let n = 0;
  for (let i = 0; i < ax.k; i++) if (start + i * ax.d < limit) n++;
  return n;
}

function poolOp(mode: Reduce): OpFactory {
  return (node) => {
    const wa = parseWindow(node);
    const a = new Attrs(node);
    if (!wa.kernel) throw new QuantLensError('model-format', `${node.opType} node '${node.name}': kernel_shape is required`);
    const includePad = a.int('count_include_pad', 0) === 1;
    if (mode === 'max' && a.int('storage_order', 0) === 1 && (node.outputs[1] ?? '') !== '') throw a.unsupported('storage_order=1 with an Indices output');
    const what = `${node.opType} node '${node.name}'`;
    return (inputs) => {
      const x = need(inputs, 0, node);
      if (x.dims.length < 3 || x.dims.length > 5) throw new QuantLensError('shape', `${what}: input rank ${x.dims.length} (1-D to 3-D pooling supported)`);
      const win = resolveWindow(wa, x.dims.slice(2), wa.kernel!, what);
      const planes = x.dims[0] * x.dims[1];
      const { y, idx } = pool(numbers(x), planes, win, mode, includePad);
      const dims = [x.dims[0], x.dims[1], ...win.out];
      const out: Tensor[] = [toTensor(x, dims, y)];
      if (mode === 'max' && (node.outputs[1] ?? '') !== '') out.push(fromNumbers('int64', dims, idx));
      return out;
    };
  };
}

function toTensor(like: Tensor, dims: number[], v: Float64Array): Tensor {
  if (isIntegerType(like.dtype)) return fromNumbers(like.dtype, dims, v);
  return { dtype: like.dtype, dims, data: Float32Array.from(v) };
}

function globalOp(mode: Reduce): OpFactory {
  return (node) => (inputs) => {
    const x = need(inputs, 0, node);
    if (x.dims.length < 2) throw new QuantLensError('shape', `${node.opType} node '${node.name}': input rank ${x.dims.length}`);
    const planes = x.dims[0] * x.dims[1], size = elementCount(x.dims.slice(2));
    const v = numbers(x);
    const out = zeros(x.dtype, [x.dims[0], x.dims[1], ...x.dims.slice(2).map(() => 1)]);
    const res = new Float64Array(planes);
    for (let p = 0; p < planes; p++) {
      let acc = mode === 'max' ? -Infinity : 0;
      for (let i = p * size, e = i + size; i < e; i++) acc = mode === 'max' ? (v[i] > acc ? v[i] : acc) : acc + v[i];
      res[p] = mode === 'max' ? acc : acc / size;
    }
    return [isIntegerType(x.dtype) ? fromNumbers(x.dtype, out.dims, res) : { ...out, data: Float32Array.from(res) }];
  };
}

export const MaxPool = poolOp('max');
export const AveragePool = poolOp('avg');
export const GlobalAveragePool = globalOp('avg');
export const GlobalMaxPool = globalOp('max');
