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
import { allocF32 } from './arena';
import { maxPoolWasm, sgemmBackend, sgemmModule } from '../kernels/sgemm-wasm';

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

/** First and one-past-last kernel tap whose input index start + i·d lies in [0, size). */
function tapRange(start: number, k: number, d: number, size: number): [number, number] {
  const lo = start >= 0 ? 0 : Math.ceil(-start / d);
  const hi = Math.min(k, Math.floor((size - 1 - start) / d) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * The common case on its own path: float32 NCHW input, no Indices output. Bounds are resolved per output row and
 * column instead of per tap, and the result is written straight into float32 (max is exact; an average is summed in
 * float64 and rounded once, as the general path does).
 */
function pool2dFloat(x: Float32Array, planes: number, win: Window, mode: Reduce, includePad: boolean): Float32Array {
  const [H, W] = win.inSize, [OH, OW] = win.out, [KH, KW] = win.kernel, [SH, SW] = win.strides, [DH, DW] = win.dilations;
  const [PH, PW] = win.padBegin;
  const y = new Float32Array(planes * OH * OW);
  const colLo = new Int32Array(OW), colHi = new Int32Array(OW), colPad = new Int32Array(OW);
  const axW: Axis = { inSize: W, out: OW, k: KW, s: SW, d: DW, pb: PW, pe: win.padEnd[1] };
  const axH: Axis = { inSize: H, out: OH, k: KH, s: SH, d: DH, pb: PH, pe: win.padEnd[0] };
  for (let ow = 0; ow < OW; ow++) {
    const w0 = ow * SW - PW;
    [colLo[ow], colHi[ow]] = tapRange(w0, KW, DW, W);
    colPad[ow] = padCount(w0, axW);
  }
  let o = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - PH;
      const [i0, i1] = tapRange(h0, KH, DH, H);
      const rowPad = includePad ? padCount(h0, axH) : 0;
      for (let ow = 0; ow < OW; ow++, o++) {
        const w0 = ow * SW - PW, j0 = colLo[ow], j1 = colHi[ow];
        if (mode === 'max') {
          // seeded with the first tap, as the general path takes it even when it is NaN
          let best = i0 < i1 && j0 < j1 ? x[base + (h0 + i0 * DH) * W + w0 + j0 * DW] : -Infinity;
          for (let i = i0; i < i1; i++) {
            const row = base + (h0 + i * DH) * W + w0;
            for (let j = j0; j < j1; j++) { const v = x[row + j * DW]; if (v > best) best = v; }
          }
          y[o] = best;
        } else {
          let sum = 0;
          for (let i = i0; i < i1; i++) {
            const row = base + (h0 + i * DH) * W + w0;
            for (let j = j0; j < j1; j++) sum += x[row + j * DW];
          }
          y[o] = sum / (includePad ? rowPad * colPad[ow] : (i1 - i0) * (j1 - j0));
        }
      }
    }
  }
  return y;
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
      const dims = [x.dims[0], x.dims[1], ...win.out];
      const wantIdx = mode === 'max' && (node.outputs[1] ?? '') !== '';
      if (x.data instanceof Float32Array && x.dims.length === 4 && !wantIdx) {
        const wasm = mode === 'max' && sgemmBackend() !== 'ts' ? sgemmModule() : null;
        if (!wasm) return [{ dtype: x.dtype, dims, data: pool2dFloat(x.data, planes, win, mode, includePad) }];
        const out = allocF32(planes * win.out[0] * win.out[1], false);
        maxPoolWasm(wasm, x.data, planes, win.inSize[0], win.inSize[1], win.kernel, win.strides, win.dilations, win.padBegin, win.out[0], win.out[1], out);
        return [{ dtype: x.dtype, dims, data: out }];
      }
      const { y, idx } = pool(numbers(x), planes, win, mode, includePad);
      const out: Tensor[] = [toTensor(x, dims, y)];
      if (wantIdx) out.push(fromNumbers('int64', dims, idx));
      return out;
    };
  };
}

function toTensor(like: Tensor, dims: number[], v: Float64Array): Tensor {
  if (isIntegerType(like.dtype)) return fromNumbers(like.dtype, dims, v);
  return { dtype: like.dtype, dims, data: Float32Array.from(v) };
}

/** Global max/average of float32 planes (sums in float64, one rounding, as the general path). */
function globalFloat(x: Float32Array, planes: number, size: number, mode: Reduce): Float32Array {
  const y = new Float32Array(planes);
  for (let p = 0, i = 0; p < planes; p++) {
    const e = i + size;
    if (mode === 'max') {
      let m = -Infinity;
      for (; i < e; i++) { const v = x[i]; if (v > m) m = v; }
      y[p] = m;
    } else {
      let sum = 0;
      for (; i < e; i++) sum += x[i];
      y[p] = sum / size;
    }
  }
  return y;
}

function globalOp(mode: Reduce): OpFactory {
  return (node) => (inputs) => {
    const x = need(inputs, 0, node);
    if (x.dims.length < 2) throw new QuantLensError('shape', `${node.opType} node '${node.name}': input rank ${x.dims.length}`);
    const planes = x.dims[0] * x.dims[1], size = elementCount(x.dims.slice(2));
    const outDims = [x.dims[0], x.dims[1], ...x.dims.slice(2).map(() => 1)];
    if (x.data instanceof Float32Array) return [{ dtype: x.dtype, dims: outDims, data: globalFloat(x.data, planes, size, mode) }];
    const v = numbers(x);
    const out = zeros(x.dtype, outDims);
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
