// SPDX-License-Identifier: Apache-2.0
/** Small tensor helpers shared by the op implementations: allocation, strides, numeric views, broadcasting. */
import { QuantLensError } from '../errors';
import type { DType, Tensor, TensorData } from '../ir';
import { elementCount } from '../ir';

/** Allocates zeroed storage for `n` elements of `dtype`, following the storage rules of engine/ir.ts. */
export function allocData(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case 'float64': return new Float64Array(n);
    case 'int8': case 'int4': return new Int8Array(n);
    case 'uint8': case 'uint4': case 'bool': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint64': return new BigUint64Array(n);
    case 'string': return new Array<string>(n).fill('');
    default: return new Float32Array(n); // float32 and every decoded narrow float type
  }
}

/** A new zero tensor. */
export function zeros(dtype: DType, dims: readonly number[]): Tensor {
  return { dtype, dims: [...dims], data: allocData(dtype, elementCount(dims)) };
}

/** A float32 tensor over existing data. */
export function f32(dims: readonly number[], data: Float32Array): Tensor {
  return { dtype: 'float32', dims: [...dims], data };
}

/** Row-major strides of `dims`. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
  return s;
}

/** True for dtypes stored as 64-bit BigInt arrays. */
export function isBig(t: Tensor): boolean {
  return t.data instanceof BigInt64Array || t.data instanceof BigUint64Array;
}

/** True for dtypes whose values are integers (so arithmetic truncates). */
export function isIntegerType(dtype: DType): boolean {
  return dtype.startsWith('int') || dtype.startsWith('uint') || dtype === 'bool';
}

/** The tensor's elements as numbers (BigInt values converted; shape paths stay well inside 2^53). */
export function numbers(t: Tensor): ArrayLike<number> {
  const d = t.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    return out;
  }
  if (Array.isArray(d)) throw new QuantLensError('unsupported-op', 'string tensors are not supported by the engine');
  return d as ArrayLike<number>;
}

/** Builds a tensor of `dtype` from numbers, rounding toward zero for integer types. */
export function fromNumbers(dtype: DType, dims: readonly number[], values: ArrayLike<number>): Tensor {
  const t = zeros(dtype, dims);
  writeNumbers(t, values);
  return t;
}

/** Writes numbers into a tensor's storage with the dtype's conversion rules. */
export function writeNumbers(t: Tensor, values: ArrayLike<number>): void {
  const d = t.data;
  const n = values.length;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      d[i] = BigInt(Number.isFinite(v) ? Math.trunc(v) : 0);
    }
  } else if (t.dtype === 'bool') {
    const b = d as Uint8Array;
    for (let i = 0; i < n; i++) b[i] = values[i] !== 0 ? 1 : 0;
  } else if (d instanceof Float32Array || d instanceof Float64Array) {
    (d as Float32Array).set(values as ArrayLike<number>);
  } else {
    const a = d as Int32Array;
    for (let i = 0; i < n; i++) a[i] = Math.trunc(values[i]);
  }
}

/** The elements of a 0-D/1-D integer tensor as a plain number array (shapes, axes, pads…). */
export function intList(t: Tensor): number[] {
  return Array.from(numbers(t), (v) => Number(v));
}

/** The single value of a scalar-like tensor. */
export function scalar(t: Tensor): number {
  const v = numbers(t);
  if (v.length !== 1) throw new QuantLensError('shape', `expected a scalar, got dims [${t.dims.join(',')}]`);
  return v[0];
}

/** Float32 data of a tensor, converting other numeric types (float16 etc. are already Float32Array). */
export function floatData(t: Tensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  return Float32Array.from(numbers(t));
}

/** Normalises a possibly negative axis against `rank`, or throws a shape error naming `what`. */
export function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new QuantLensError('shape', `${what}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Multidirectional (numpy) broadcast of shapes, or a shape error naming `what`. */
export function broadcastShapes(shapes: readonly (readonly number[])[], what: string): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else throw new QuantLensError('shape', `${what}: shapes [${shapes.map((x) => x.join('x')).join('], [')}] do not broadcast`);
    }
  }
  return out;
}

/** Strides of `dims` aligned to `outDims` (right-aligned), 0 on broadcast dimensions. */
export function broadcastStrides(dims: readonly number[], outDims: readonly number[]): number[] {
  const s = stridesOf(dims);
  const out = new Array<number>(outDims.length).fill(0);
  for (let i = 0; i < dims.length; i++) {
    const o = outDims.length - dims.length + i;
    out[o] = dims[i] === 1 ? 0 : s[i];
  }
  return out;
}

/** Copies `t` broadcast to `outDims` into a fresh dense tensor of the same dtype. */
export function broadcastTo(t: Tensor, outDims: readonly number[]): Tensor {
  const out = zeros(t.dtype, outDims);
  const total = elementCount(outDims);
  if (total === 0) return out;
  const st = broadcastStrides(t.dims, outDims);
  const src = t.data as unknown as ArrayLike<unknown> & { [i: number]: unknown };
  const dst = out.data as unknown as { [i: number]: unknown };
  const rank = outDims.length;
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < total; i++) {
    dst[i] = src[off];
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++; off += st[a];
      if (idx[a] < outDims[a]) break;
      off -= st[a] * idx[a]; idx[a] = 0;
    }
  }
  return out;
}

/** Same storage, new dims (callers check the element count). */
export function reshaped(t: Tensor, dims: readonly number[]): Tensor {
  return { dtype: t.dtype, dims: [...dims], data: t.data };
}

/** Throws a shape error unless `t` has rank `rank` (or at least `min` when rank is null). */
export function requireRank(t: Tensor, rank: number | null, min: number, what: string): void {
  if (rank !== null ? t.dims.length !== rank : t.dims.length < min) {
    throw new QuantLensError('shape', `${what}: expected rank ${rank ?? `≥ ${min}`}, got [${t.dims.join(',')}]`);
  }
}
