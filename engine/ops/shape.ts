// SPDX-License-Identifier: Apache-2.0
/** Shape-only and constant-making ops: Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size, Expand, ConstantOfShape, Range, Identity, Dropout, Constant, Cast. */
import { QuantLensError } from '../errors';
import type { DType, Tensor } from '../ir';
import { elementCount } from '../ir';
import { allocData, broadcastShapes, broadcastTo, fromNumbers, intList, isBig, normAxis, numbers, reshaped, scalar, zeros } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';

const label = (opType: string, name: string): string => `${opType} node '${name}'`;

/** ONNX TensorProto.DataType codes the Cast op can target. */
const CAST_TYPES: Record<number, DType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
};

export const Reshape: OpFactory = (node, ctx) => {
  const a = new Attrs(node);
  const attrShape = a.ints('shape'), allowZero = a.int('allowzero', 0) === 1;
  return (inputs) => {
    const x = need(inputs, 0, node);
    const spec = ctx.opset < 5 ? attrShape : intList(need(inputs, 1, node));
    if (!spec) throw new QuantLensError('model-format', `${label(node.opType, node.name)}: no target shape`);
    const dims = spec.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
    const known = dims.reduce((p, d) => (d === -1 ? p : p * d), 1);
    const inferred = dims.indexOf(-1);
    if (inferred >= 0) dims[inferred] = known === 0 ? 0 : elementCount(x.dims) / known;
    if (elementCount(dims) !== elementCount(x.dims) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new QuantLensError('shape', `${label(node.opType, node.name)}: cannot reshape [${x.dims}] to [${spec}]`);
    }
    return [reshaped(x, dims)];
  };
};

export const Flatten: OpFactory = (node) => {
  const axisAttr = new Attrs(node).int('axis', 1);
  return (inputs) => {
    const x = need(inputs, 0, node);
    const axis = axisAttr < 0 ? axisAttr + x.dims.length : axisAttr;
    if (axis < 0 || axis > x.dims.length) throw new QuantLensError('shape', `${label(node.opType, node.name)}: axis ${axisAttr} for rank ${x.dims.length}`);
    return [reshaped(x, [elementCount(x.dims.slice(0, axis)), elementCount(x.dims.slice(axis))])];
  };
};

/** Axes from the attribute (before `inputSince`) or from input 1. */
function axesOf(opset: number, inputSince: number, inputs: (Tensor | undefined)[], attr: number[] | undefined): number[] | undefined {
  if (opset < inputSince) return attr;
  return inputs[1] ? intList(inputs[1]) : undefined;
}

export const Squeeze: OpFactory = (node, ctx) => {
  const attr = new Attrs(node).ints('axes');
  return (inputs) => {
    const x = need(inputs, 0, node);
    const axes = axesOf(ctx.opset, 13, inputs, attr)?.map((v) => normAxis(v, x.dims.length, label(node.opType, node.name)));
    const dims = x.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
    if (axes?.some((i) => x.dims[i] !== 1)) throw new QuantLensError('shape', `${label(node.opType, node.name)}: cannot squeeze non-1 axis of [${x.dims}]`);
    return [reshaped(x, dims)];
  };
};

export const Unsqueeze: OpFactory = (node, ctx) => {
  const attr = new Attrs(node).ints('axes');
  return (inputs) => {
    const x = need(inputs, 0, node);
    const raw = axesOf(ctx.opset, 13, inputs, attr);
    if (!raw) throw new QuantLensError('model-format', `${label(node.opType, node.name)}: no axes`);
    const rank = x.dims.length + raw.length;
    const axes = raw.map((v) => normAxis(v, rank, label(node.opType, node.name)));
    const dims: number[] = [];
    let src = 0;
    for (let i = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : x.dims[src++]);
    return [reshaped(x, dims)];
  };
};

export const Shape: OpFactory = (node) => {
  const a = new Attrs(node);
  const start = a.int('start', 0), end = a.has('end') ? a.int('end', 0) : undefined;
  return (inputs) => {
    const x = need(inputs, 0, node);
    const r = x.dims.length;
    const clamp = (v: number): number => Math.min(r, Math.max(0, v < 0 ? v + r : v));
    const dims = x.dims.slice(clamp(start), end === undefined ? r : clamp(end));
    return [fromNumbers('int64', [dims.length], dims)];
  };
};

export const Size: OpFactory = (node) => (inputs) => [fromNumbers('int64', [], [elementCount(need(inputs, 0, node).dims)])];

export const Expand: OpFactory = (node) => (inputs) => {
  const x = need(inputs, 0, node);
  const dims = broadcastShapes([x.dims, intList(need(inputs, 1, node))], label(node.opType, node.name));
  return [broadcastTo(x, dims)];
};

export const ConstantOfShape: OpFactory = (node) => {
  const value = new Attrs(node).tensor('value') ?? fromNumbers('float32', [1], [0]);
  return (inputs) => {
    const dims = intList(need(inputs, 0, node));
    const out = zeros(value.dtype, dims);
    const v = (value.data as unknown as ArrayLike<unknown>)[0];
    (out.data as unknown as { fill(v: unknown): void }).fill(v);
    return [out];
  };
};

export const Range: OpFactory = (node) => (inputs) => {
  const startT = need(inputs, 0, node);
  const start = scalar(startT), limit = scalar(need(inputs, 1, node)), delta = scalar(need(inputs, 2, node));
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = start + i * delta;
  return [fromNumbers(startT.dtype, [n], v)];
};

/** Identity passes the tensor through (tensors are never mutated in place). */
export const Identity: OpFactory = (node) => (inputs) => [need(inputs, 0, node)];

/** Dropout at inference: identity, and an all-true mask when the mask output is requested. */
export const Dropout: OpFactory = (node) => (inputs) => {
  const x = need(inputs, 0, node);
  const mask = zeros('bool', x.dims);
  (mask.data as Uint8Array).fill(1);
  return [x, mask];
};

export const Constant: OpFactory = (node) => {
  const a = new Attrs(node);
  const t = a.tensor('value');
  const fixed: Tensor | undefined = t ?? (a.has('value_float') ? fromNumbers('float32', [], [a.float('value_float', 0)])
    : a.has('value_floats') ? fromNumbers('float32', [a.floats('value_floats')!.length], a.floats('value_floats')!)
      : a.has('value_int') ? fromNumbers('int64', [], [a.int('value_int', 0)])
        : a.has('value_ints') ? fromNumbers('int64', [a.ints('value_ints')!.length], a.ints('value_ints')!) : undefined);
  if (!fixed) throw a.unsupported('a Constant without a numeric value');
  return () => [fixed];
};

/** Rounds to the nearest IEEE half value (as float32 storage keeps it). */
function toHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const ax = Math.abs(x);
  if (ax >= 65520) return Math.sign(x) * Infinity;
  const e = Math.max(Math.floor(Math.log2(ax)), -14);
  const q = Math.pow(2, e - 10);
  const r = ax / q;
  let m = Math.round(r);
  if (Math.abs(r % 1) === 0.5 && m % 2 !== 0) m -= 1;
  return Math.sign(x) * m * q;
}

export const Cast: OpFactory = (node) => {
  const a = new Attrs(node);
  const to = CAST_TYPES[a.int('to', 0)];
  if (!to) throw a.unsupported(`Cast to type code ${a.int('to', 0)}`);
  return (inputs) => {
    const x = need(inputs, 0, node);
    if (x.dtype === to) return [x];
    if (isBig(x) && (to === 'int64' || to === 'uint64')) {
      const out = { dtype: to, dims: [...x.dims], data: allocData(to, elementCount(x.dims)) } as Tensor;
      (out.data as BigInt64Array).set(x.data as BigInt64Array);
      return [out];
    }
    const v = numbers(x);
    if (to === 'float16') return [{ dtype: to, dims: [...x.dims], data: Float32Array.from(v, toHalf) }];
    return [fromNumbers(to, x.dims, v)];
  };
};
