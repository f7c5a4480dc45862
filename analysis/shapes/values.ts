// SPDX-License-Identifier: Apache-2.0
/**
 * Shape-carrying constant propagation. Exporters compute Reshape targets, Expand shapes and Resize sizes with
 * chains like Shape → Gather → Unsqueeze → Concat; shape inference evaluates such chains on small tensors
 * (numbers, at most MAX_VALUE_ELEMENTS) so the targets resolve to concrete dims.
 */
import type { DType, Tensor } from '../../engine/ir';

/** A small constant tensor with its elements as plain numbers (int64 shapes fit: they are < 2^53). */
export interface Val {
  dtype: DType;
  dims: number[];
  v: number[];
}

export const MAX_VALUE_ELEMENTS = 4096;

const isIntType = (d: DType) => /^u?int/.test(d) || d === 'bool';

/** A Tensor as a Val, when it is small and numeric. */
export function valOf(t: Tensor): Val | undefined {
  // decide from dims before touching data: a lazily loaded external tensor reads its file on access
  if (count(t.dims) > MAX_VALUE_ELEMENTS || t.dtype === 'string') return undefined;
  if (Array.isArray(t.data)) return undefined;
  if (t.dtype === 'complex64' || t.dtype === 'complex128') return undefined;
  return { dtype: t.dtype, dims: t.dims.slice(), v: Array.from(t.data as ArrayLike<number | bigint>, Number) };
}

/** A Val back as an IR Tensor (int64 → BigInt64Array). */
export function tensorOf(val: Val): Tensor {
  const d = val.dtype;
  let data: Tensor['data'];
  if (d === 'int64') data = BigInt64Array.from(val.v, (x) => BigInt(Math.trunc(x)));
  else if (d === 'uint64') data = BigUint64Array.from(val.v, (x) => BigInt(Math.max(0, Math.trunc(x))));
  else if (d === 'int32') data = Int32Array.from(val.v);
  else if (d === 'float64') data = Float64Array.from(val.v);
  else if (d === 'bool' || d === 'uint8') data = Uint8Array.from(val.v);
  else if (d === 'int8') data = Int8Array.from(val.v);
  else data = Float32Array.from(val.v);
  return { dtype: d, dims: val.dims.slice(), data };
}

export function count(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Numpy broadcast of concrete dims; undefined when incompatible. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Reads `v` at the broadcast position of flat output index `i`. */
function broadcastIndexer(dims: readonly number[], outDims: readonly number[]): (i: number) => number {
  const outStrides = stridesOf(outDims);
  const inStrides = stridesOf(dims);
  const off = outDims.length - dims.length;
  return (i) => {
    let idx = 0;
    for (let k = 0; k < dims.length; k++) {
      const coord = Math.floor(i / outStrides[k + off]) % outDims[k + off];
      if (dims[k] !== 1) idx += coord * inStrides[k];
    }
    return idx;
  };
}

/** Elementwise op over broadcast inputs. */
export function elementwise(inputs: Val[], f: (...x: number[]) => number, dtype: DType): Val | undefined {
  let dims: number[] | undefined = inputs[0].dims;
  for (const x of inputs.slice(1)) dims = dims && broadcastDims(dims, x.dims);
  if (!dims || count(dims) > MAX_VALUE_ELEMENTS) return undefined;
  const idx = inputs.map((x) => broadcastIndexer(x.dims, dims!));
  const n = count(dims);
  const v = new Array<number>(n);
  for (let i = 0; i < n; i++) v[i] = f(...inputs.map((x, k) => x.v[idx[k](i)]));
  return { dtype, dims, v: isIntType(dtype) && dtype !== 'bool' ? v.map(Math.trunc) : v };
}

/** Binary arithmetic with ONNX's integer semantics (truncating division). */
export function arith(op: string, a: Val, b: Val): Val | undefined {
  const int = isIntType(a.dtype);
  const f: Record<string, (x: number, y: number) => number> = {
    Add: (x, y) => x + y, Sub: (x, y) => x - y, Mul: (x, y) => x * y,
    Div: (x, y) => (int ? (y === 0 ? 0 : Math.trunc(x / y)) : x / y),
    Mod: (x, y) => (y === 0 ? 0 : x - Math.floor(x / y) * y), Pow: (x, y) => x ** y,
    Max: Math.max, Min: Math.min,
    Equal: (x, y) => +(x === y), Less: (x, y) => +(x < y), Greater: (x, y) => +(x > y),
    LessOrEqual: (x, y) => +(x <= y), GreaterOrEqual: (x, y) => +(x >= y),
    And: (x, y) => +(!!x && !!y), Or: (x, y) => +(!!x || !!y),
  };
  const fn = f[op];
  if (!fn) return undefined;
  const boolOut = ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or'].includes(op);
  return elementwise([a, b], fn, boolOut ? 'bool' : a.dtype);
}

/** Gather along an axis (negative indices count from the end). */
export function gather(data: Val, indices: Val, axis: number): Val | undefined {
  const r = data.dims.length;
  const ax = axis < 0 ? axis + r : axis;
  if (ax < 0 || ax >= r) return undefined;
  const outer = count(data.dims.slice(0, ax));
  const n = data.dims[ax];
  const inner = count(data.dims.slice(ax + 1));
  const dims = [...data.dims.slice(0, ax), ...indices.dims, ...data.dims.slice(ax + 1)];
  if (count(dims) > MAX_VALUE_ELEMENTS) return undefined;
  const v: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const raw of indices.v) {
      const i = raw < 0 ? raw + n : raw;
      if (i < 0 || i >= n) return undefined;
      for (let k = 0; k < inner; k++) v.push(data.v[(o * n + i) * inner + k]);
    }
  }
  return { dtype: data.dtype, dims, v };
}

/** Concatenation along an axis. */
export function concat(parts: Val[], axis: number): Val | undefined {
  const r = parts[0].dims.length;
  const ax = axis < 0 ? axis + r : axis;
  if (ax < 0 || ax >= r) return undefined;
  const outer = count(parts[0].dims.slice(0, ax));
  const v: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const chunk = count(p.dims.slice(ax));
      for (let k = 0; k < chunk; k++) v.push(p.v[o * chunk + k]);
    }
  }
  const dims = parts[0].dims.slice();
  dims[ax] = parts.reduce((s, p) => s + (p.dims[ax] ?? 0), 0);
  return { dtype: parts[0].dtype, dims, v };
}

/** Slice with ONNX's clamping rules (starts/ends clamp to the dim; negative steps walk backwards). */
export function sliceRanges(dim: number, start: number, end: number, step: number): number[] {
  const clampIdx = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  const out: number[] = [];
  if (step > 0) {
    s = clampIdx(s, 0, dim);
    e = clampIdx(e, 0, dim);
    for (let i = s; i < e; i += step) out.push(i);
  } else {
    s = clampIdx(s, -1, dim - 1);
    e = clampIdx(e, -1, dim - 1);
    for (let i = s; i > e; i += step) out.push(i);
  }
  return out;
}

/** Slices a Val given per-axis index lists. */
export function sliceVal(x: Val, picks: number[][]): Val | undefined {
  const dims = picks.map((p) => p.length);
  if (count(dims) > MAX_VALUE_ELEMENTS) return undefined;
  const strides = stridesOf(x.dims);
  const v: number[] = [];
  const rec = (axis: number, base: number) => {
    if (axis === dims.length) { v.push(x.v[base]); return; }
    for (const i of picks[axis]) rec(axis + 1, base + i * strides[axis]);
  };
  rec(0, 0);
  return { dtype: x.dtype, dims, v };
}

/** Transposes a Val. */
export function transposeVal(x: Val, perm: number[]): Val | undefined {
  const dims = perm.map((p) => x.dims[p]);
  const picks = x.dims.map((d) => Array.from({ length: d }, (_, i) => i));
  const strides = stridesOf(x.dims);
  const v: number[] = [];
  const rec = (axis: number, base: number) => {
    if (axis === perm.length) { v.push(x.v[base]); return; }
    for (const i of picks[perm[axis]]) rec(axis + 1, base + i * strides[perm[axis]]);
  };
  rec(0, 0);
  return { dtype: x.dtype, dims, v };
}

/** Cast semantics: float → int truncates toward zero, → bool is != 0. */
export function castVal(x: Val, to: DType): Val {
  if (to === 'bool') return { dtype: to, dims: x.dims, v: x.v.map((a) => +(a !== 0)) };
  if (isIntType(to)) return { dtype: to, dims: x.dims, v: x.v.map((a) => (Number.isFinite(a) ? Math.trunc(a) : 0)) };
  return { dtype: to, dims: x.dims, v: x.v.slice() };
}
