// SPDX-License-Identifier: Apache-2.0
/** Normalisations (BatchNormalization at inference, Instance, Layer, Group, MeanVariance, Lp, LRN) and Softmax/LogSoftmax/Hardmax. */
import { QuantLensError } from '../errors';
import type { Tensor } from '../ir';
import { elementCount } from '../ir';
import { broadcastTo, floatData, normAxis } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';
import { allocF32 } from './arena';
import { transpose } from './layout';

const label = (opType: string, name: string): string => `${opType} node '${name}'`;

export const BatchNormalization: OpFactory = (node) => {
  const a = new Attrs(node);
  const eps = a.float('epsilon', 1e-5);
  if (a.int('training_mode', 0) === 1 || node.outputs.slice(1).some((o) => o !== '')) throw a.unsupported('training mode (running statistics outputs)');
  return (inputs) => {
    const x = need(inputs, 0, node);
    const scale = floatData(need(inputs, 1, node)), bias = floatData(need(inputs, 2, node));
    const mean = floatData(need(inputs, 3, node)), variance = floatData(need(inputs, 4, node));
    const N = x.dims[0], C = x.dims.length > 1 ? x.dims[1] : 1, inner = elementCount(x.dims.slice(2));
    if (scale.length !== C || bias.length !== C || mean.length !== C || variance.length !== C) {
      throw new QuantLensError('shape', `${label(node.opType, node.name)}: parameters do not have ${C} channels`);
    }
    const xd = floatData(x), y = allocF32(xd.length, false);
    for (let c = 0; c < C; c++) {
      const k = scale[c] / Math.sqrt(variance[c] + eps), b = bias[c] - mean[c] * k;
      for (let n = 0; n < N; n++) {
        const o = (n * C + c) * inner;
        for (let i = o; i < o + inner; i++) y[i] = xd[i] * k + b;
      }
    }
    return [{ dtype: x.dtype, dims: [...x.dims], data: y }];
  };
};

export const InstanceNormalization: OpFactory = (node) => {
  const eps = new Attrs(node).float('epsilon', 1e-5);
  return (inputs) => {
    const x = need(inputs, 0, node);
    const scale = floatData(need(inputs, 1, node)), bias = floatData(need(inputs, 2, node));
    const N = x.dims[0], C = x.dims[1], inner = elementCount(x.dims.slice(2));
    const xd = floatData(x), y = new Float32Array(xd.length);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
      const o = (n * C + c) * inner;
      normalizeRow(xd, y, o, inner, eps, scale[c], bias[c]);
    }
    return [{ dtype: x.dtype, dims: [...x.dims], data: y }];
  };
};

/** y[o..o+len] = (x − mean)/sqrt(var + eps)·k + b; returns [mean, invStd]. */
function normalizeRow(x: Float32Array, y: Float32Array, o: number, len: number, eps: number, k: number, b: number): [number, number] {
  let sum = 0;
  for (let i = o; i < o + len; i++) sum += x[i];
  const mean = sum / len;
  let sq = 0;
  for (let i = o; i < o + len; i++) { const d = x[i] - mean; sq += d * d; }
  const inv = 1 / Math.sqrt(sq / len + eps);
  for (let i = o; i < o + len; i++) y[i] = (x[i] - mean) * inv * k + b;
  return [mean, inv];
}

export const LayerNormalization: OpFactory = (node) => {
  const a = new Attrs(node);
  const axisAttr = a.int('axis', -1), eps = a.float('epsilon', 1e-5);
  return (inputs) => {
    const x = need(inputs, 0, node);
    const axis = normAxis(axisAttr, x.dims.length, label(node.opType, node.name));
    const normDims = x.dims.slice(axis), len = elementCount(normDims), rows = elementCount(x.dims.slice(0, axis));
    const scale = floatData(broadcastTo(need(inputs, 1, node), normDims));
    const bias = inputs[2] ? floatData(broadcastTo(inputs[2], normDims)) : new Float32Array(len);
    const xd = floatData(x), y = new Float32Array(xd.length);
    const meanOut = new Float32Array(rows), invOut = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const [mean, inv] = normalizeRow(xd, y, r * len, len, eps, 1, 0);
      meanOut[r] = mean; invOut[r] = inv;
      for (let i = 0; i < len; i++) y[r * len + i] = y[r * len + i] * scale[i] + bias[i];
    }
    const statDims = [...x.dims.slice(0, axis), ...normDims.map(() => 1)];
    return [{ dtype: x.dtype, dims: [...x.dims], data: y }, { dtype: 'float32', dims: statDims, data: meanOut }, { dtype: 'float32', dims: statDims, data: invOut }];
  };
};

export const LRN: OpFactory = (node) => {
  const a = new Attrs(node);
  const size = a.int('size', 0), alpha = a.float('alpha', 1e-4), beta = a.float('beta', 0.75), bias = a.float('bias', 1);
  if (size < 1) throw new QuantLensError('model-format', `${label(node.opType, node.name)}: attribute 'size' is required`);
  return (inputs) => {
    const x = need(inputs, 0, node);
    const N = x.dims[0], C = x.dims[1], inner = elementCount(x.dims.slice(2));
    const xd = floatData(x), y = new Float32Array(xd.length);
    const lo = Math.floor((size - 1) / 2), hi = Math.ceil((size - 1) / 2);
    const sq = new Float64Array(inner);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
      sq.fill(0);
      for (let j = Math.max(0, c - lo); j <= Math.min(C - 1, c + hi); j++) {
        const o = (n * C + j) * inner;
        for (let i = 0; i < inner; i++) sq[i] += xd[o + i] * xd[o + i];
      }
      const o = (n * C + c) * inner;
      for (let i = 0; i < inner; i++) y[o + i] = xd[o + i] / Math.pow(bias + (alpha / size) * sq[i], beta);
    }
    return [{ dtype: x.dtype, dims: [...x.dims], data: y }];
  };
};

/** GroupNormalization: opset 18 takes per-group scale/bias, opset 21 per-channel. */
export const GroupNormalization: OpFactory = (node, ctx) => {
  const a = new Attrs(node);
  const groups = a.int('num_groups', 0), eps = a.float('epsilon', 1e-5);
  if (groups < 1) throw new QuantLensError('model-format', `${label(node.opType, node.name)}: num_groups is required`);
  return (inputs) => {
    const x = need(inputs, 0, node);
    const scale = floatData(need(inputs, 1, node)), bias = floatData(need(inputs, 2, node));
    const N = x.dims[0], C = x.dims[1], inner = elementCount(x.dims.slice(2));
    if (C % groups !== 0) throw new QuantLensError('shape', `${label(node.opType, node.name)}: ${C} channels in ${groups} groups`);
    const perGroup = ctx.opset < 21, cg = C / groups;
    const xd = floatData(x), y = allocF32(xd.length, false);
    for (let n = 0; n < N; n++) for (let g = 0; g < groups; g++) {
      const o = (n * C + g * cg) * inner;
      normalizeRow(xd, y, o, cg * inner, eps, 1, 0);
      for (let c = 0; c < cg; c++) {
        const ch = g * cg + c, k = perGroup ? scale[g] : scale[ch], b = perGroup ? bias[g] : bias[ch];
        for (let i = o + c * inner; i < o + (c + 1) * inner; i++) y[i] = y[i] * k + b;
      }
    }
    return [{ dtype: x.dtype, dims: [...x.dims], data: y }];
  };
};

/** MeanVarianceNormalization over `axes` (default N, H, W). */
export const MeanVarianceNormalization: OpFactory = (node) => {
  const axesAttr = new Attrs(node).ints('axes') ?? [0, 2, 3];
  return (inputs) => {
    const x = need(inputs, 0, node);
    const r = x.dims.length, axes = axesAttr.map((v) => normAxis(v, r, label(node.opType, node.name)));
    // Move the normalised axes last, normalise rows, move back.
    const keep = x.dims.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...keep, ...axes];
    const len = elementCount(axes.map((i) => x.dims[i])), rows = elementCount(keep.map((i) => x.dims[i]));
    const t = transpose({ ...x, data: floatData(x) }, perm);
    const td = t.data as Float32Array, y = new Float32Array(td.length);
    for (let row = 0; row < rows; row++) normalizeRow(td, y, row * len, len, 1e-9, 1, 0);
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [transpose({ dtype: x.dtype, dims: perm.map((p) => x.dims[p]), data: y }, inv)];
  };
};

/** LpNormalization (p = 1 or 2) along one axis. */
export const LpNormalization: OpFactory = (node) => {
  const a = new Attrs(node);
  const axisAttr = a.int('axis', -1), p = a.int('p', 2);
  if (p !== 1 && p !== 2) throw a.unsupported(`p=${p}`);
  return (inputs) => {
    const x = need(inputs, 0, node);
    const axis = normAxis(axisAttr, x.dims.length, label(node.opType, node.name));
    const outer = elementCount(x.dims.slice(0, axis)), len = x.dims[axis], inner = elementCount(x.dims.slice(axis + 1));
    const xd = floatData(x), y = new Float32Array(xd.length);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      let n = 0;
      for (let j = 0; j < len; j++) { const v = xd[(o * len + j) * inner + i]; n += p === 1 ? Math.abs(v) : v * v; }
      n = p === 1 ? n : Math.sqrt(n);
      for (let j = 0; j < len; j++) { const q = (o * len + j) * inner + i; y[q] = n === 0 ? 0 : xd[q] / n; }
    }
    return [{ dtype: x.dtype, dims: [...x.dims], data: y }];
  };
};

type SoftKind = 'softmax' | 'log' | 'hard';

/** Softmax family: before opset 13 the input is flattened to 2-D at `axis` (default 1); from 13 on, one axis (default −1). */
function softmaxOp(kind: SoftKind): OpFactory {
  return (node, ctx) => {
    const legacy = ctx.opset < 13;
    const axisAttr = new Attrs(node).int('axis', legacy ? 1 : -1);
    return (inputs) => {
      const x = need(inputs, 0, node);
      const rank = x.dims.length;
      const axis = rank === 0 ? 0 : normAxis(axisAttr, rank, label(node.opType, node.name));
      const outer = elementCount(x.dims.slice(0, axis));
      const len = legacy ? elementCount(x.dims.slice(axis)) : (x.dims[axis] ?? 1);
      const inner = legacy ? 1 : elementCount(x.dims.slice(axis + 1));
      const xd = floatData(x), y = allocF32(xd.length, false);
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) softRow(xd, y, o * len * inner + i, len, inner, kind);
      return [{ dtype: x.dtype, dims: [...x.dims], data: y } as Tensor];
    };
  };
}

function softRow(x: Float32Array, y: Float32Array, start: number, len: number, step: number, kind: SoftKind): void {
  let max = -Infinity, arg = 0;
  for (let j = 0, p = start; j < len; j++, p += step) if (x[p] > max) { max = x[p]; arg = j; }
  if (kind === 'hard') { for (let j = 0, p = start; j < len; j++, p += step) y[p] = j === arg ? 1 : 0; return; }
  let sum = 0;
  for (let j = 0, p = start; j < len; j++, p += step) sum += Math.exp(x[p] - max);
  if (kind === 'log') { const l = Math.log(sum); for (let j = 0, p = start; j < len; j++, p += step) y[p] = x[p] - max - l; return; }
  for (let j = 0, p = start; j < len; j++, p += step) y[p] = Math.exp(x[p] - max) / sum;
}

export const Softmax = softmaxOp('softmax');
export const LogSoftmax = softmaxOp('log');
export const Hardmax = softmaxOp('hard');
