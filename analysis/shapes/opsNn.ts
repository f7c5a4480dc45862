// SPDX-License-Identifier: Apache-2.0
/** Shape rules for the compute layers: convolutions, pooling, Gemm/MatMul, normalisations. */
import type { Dim } from '../../engine/ir';
import { axisOf, broadcast, type OpContext, type OutInfo, type ShapeRule } from './context';

const same = (c: OpContext, i = 0): OutInfo => ({ shape: c.shape(i), dtype: c.dtype(i) });

/** Spatial output size of a sliding window (Conv/pool), ONNX formula incl. auto_pad and ceil_mode. */
function windowOut(
  c: OpContext, input: Dim, k: number, stride: number, dil: number, padBegin: number, padEnd: number, autoPad: string, ceil: boolean,
): Dim {
  if (typeof input !== 'number') return null;
  const eff = dil * (k - 1) + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(input / stride);
  if (autoPad === 'VALID') {
    const v = Math.floor((input - eff) / stride) + 1;
    if (v < 1) c.fail(`kernel ${k} (dilation ${dil}) is larger than the input size ${input}`);
    return v;
  }
  const span = input + padBegin + padEnd - eff;
  if (span < 0) c.fail(`kernel ${k} (dilation ${dil}) is larger than the padded input size ${input + padBegin + padEnd}`);
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // with ceil_mode the last window must start inside the input or its left padding
  if (ceil && (out - 1) * stride >= input + padBegin) out--;
  return out;
}

/** Conv, MaxPool, AveragePool, LpPool: N, C, then spatial dims by windowOut. */
function slidingWindow(c: OpContext, kind: 'conv' | 'pool'): OutInfo[] {
  const x = c.shape(0);
  if (!x) return [{ dtype: c.dtype(0) }];
  const sp = x.length - 2;
  if (sp < 1) c.fail(`input must have rank ≥ 3, got [${x.join(',')}]`);
  let kernel = c.ints('kernel_shape');
  let outC: Dim = x[1];
  if (kind === 'conv') {
    const w = c.shape(1);
    if (w) {
      if (w.length !== x.length) c.fail(`weight rank ${w.length} does not match input rank ${x.length}`);
      kernel ??= w.slice(2).map((d) => (typeof d === 'number' ? d : NaN));
      outC = w[0];
      const group = c.int('group', 1);
      if (typeof x[1] === 'number' && typeof w[1] === 'number' && x[1] !== w[1] * group) {
        c.fail(`input has ${x[1]} channels but weight expects ${w[1]} × group ${group}`);
      }
    } else outC = null;
  }
  if (!kernel || kernel.some((k) => !Number.isFinite(k))) return [{ shape: [x[0], outC, ...x.slice(2).map(() => null)], dtype: c.dtype(0) }];
  if (kernel.length !== sp) c.fail(`kernel_shape has ${kernel.length} dims for ${sp} spatial dims`);
  const strides = c.ints('strides') ?? kernel.map(() => 1);
  const dil = c.ints('dilations') ?? kernel.map(() => 1);
  const pads = c.ints('pads') ?? kernel.map(() => 0).concat(kernel.map(() => 0));
  const autoPad = c.str('auto_pad', 'NOTSET');
  const ceil = kind === 'pool' && c.int('ceil_mode', 0) === 1;
  const spatial = x.slice(2).map((d, i) => windowOut(c, d, kernel![i], strides[i] ?? 1, dil[i] ?? 1, pads[i] ?? 0, pads[i + sp] ?? 0, autoPad, ceil));
  const shape = [x[0], outC, ...spatial];
  const outs: OutInfo[] = [{ shape, dtype: c.dtype(0) }];
  if (c.node.outputs.length > 1) outs.push({ shape, dtype: 'int64' }); // MaxPool indices
  return outs;
}

function convTranspose(c: OpContext): OutInfo[] {
  const x = c.shape(0), w = c.shape(1);
  if (!x || !w) return [{ dtype: c.dtype(0) }];
  const sp = x.length - 2;
  const group = c.int('group', 1);
  const outC = typeof w[1] === 'number' ? w[1] * group : null;
  const kernel = c.ints('kernel_shape') ?? w.slice(2).map((d) => (typeof d === 'number' ? d : NaN));
  const strides = c.ints('strides') ?? kernel.map(() => 1);
  const dil = c.ints('dilations') ?? kernel.map(() => 1);
  const outPad = c.ints('output_padding') ?? kernel.map(() => 0);
  const outputShape = c.ints('output_shape');
  const pads = c.ints('pads') ?? new Array<number>(2 * sp).fill(0);
  const autoPad = c.str('auto_pad', 'NOTSET');
  const spatial = x.slice(2).map((d, i): Dim => {
    if (outputShape) return outputShape[outputShape.length - sp + i];
    if (typeof d !== 'number' || !Number.isFinite(kernel[i])) return null;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return d * strides[i];
    return strides[i] * (d - 1) + outPad[i] + (kernel[i] - 1) * dil[i] + 1 - pads[i] - pads[i + sp];
  });
  return [{ shape: [x[0], outC, ...spatial], dtype: c.dtype(0) }];
}

function gemm(c: OpContext): OutInfo[] {
  const a = c.shape(0), b = c.shape(1);
  if (!a || !b) return [{ dtype: c.dtype(0) }];
  if (a.length !== 2 || b.length !== 2) c.fail(`Gemm needs 2-D inputs, got [${a.join(',')}] and [${b.join(',')}]`);
  const [m, ka] = c.int('transA', 0) ? [a[1], a[0]] : [a[0], a[1]];
  const [kb, n] = c.int('transB', 0) ? [b[1], b[0]] : [b[0], b[1]];
  if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) c.fail(`inner dimensions differ: ${ka} vs ${kb}`);
  return [{ shape: [m, n], dtype: c.dtype(0) }];
}

function matmul(c: OpContext): OutInfo[] {
  const a0 = c.shape(0), b0 = c.shape(1);
  const dtype = c.node.opType === 'MatMulInteger' ? 'int32' : c.dtype(0);
  if (!a0 || !b0) return [{ dtype }];
  if (a0.length === 0 || b0.length === 0) c.fail('MatMul inputs must not be scalars');
  const a = a0.length === 1 ? [1, a0[0]] : a0;
  const b = b0.length === 1 ? [b0[0], 1] : b0;
  const ka = a[a.length - 1], kb = b[b.length - 2];
  if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) {
    c.fail(`inner dimensions differ: [${a0.join(',')}] × [${b0.join(',')}]`);
  }
  const batch = broadcast(c, [a.slice(0, -2), b.slice(0, -2)]);
  const shape = [...batch];
  if (a0.length > 1) shape.push(a[a.length - 2]);
  if (b0.length > 1) shape.push(b[b.length - 1]);
  return [{ shape, dtype }];
}

function globalPool(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  return [{ shape: x ? [x[0], x[1], ...x.slice(2).map(() => 1)] : undefined, dtype: c.dtype(0) }];
}

function layerNorm(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  const outs: OutInfo[] = [same(c)];
  if (x && c.node.outputs.length > 1) {
    const axis = axisOf(c, c.int('axis', -1), x.length);
    const stat = x.map((d, i) => (i < axis ? d : 1));
    outs.push({ shape: stat, dtype: 'float32' }, { shape: stat, dtype: 'float32' });
  }
  return outs;
}

function batchNorm(c: OpContext): OutInfo[] {
  const x = c.shape(0);
  const ch: Dim[] | undefined = x ? [x[1]] : undefined;
  return [same(c), ...c.node.outputs.slice(1).map(() => ({ shape: ch, dtype: c.dtype(0) }))];
}

/** Rules for the layers that carry weights or windows. */
export const NN_RULES: Record<string, ShapeRule> = {
  Conv: (c) => slidingWindow(c, 'conv'),
  ConvInteger: (c) => slidingWindow(c, 'conv').map((o) => ({ ...o, dtype: 'int32' })),
  MaxPool: (c) => slidingWindow(c, 'pool'),
  AveragePool: (c) => slidingWindow(c, 'pool'),
  LpPool: (c) => slidingWindow(c, 'pool'),
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: matmul,
  MatMulInteger: matmul,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  InstanceNormalization: (c) => [same(c)],
  GroupNormalization: (c) => [same(c)],
  LRN: (c) => [same(c)],
  MeanVarianceNormalization: (c) => [same(c)],
};
