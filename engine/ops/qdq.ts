// SPDX-License-Identifier: Apache-2.0
/** QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked), so QDQ models such as QuantLens's own exports run in FP32 simulation. */
import { dequantizeCodes, quantizeValues } from '../fakeQuant';
import type { DType, Tensor } from '../ir';
import { elementCount } from '../ir';
import type { QuantLayout, QuantParams } from '../quant-types';
import { floatData, fromNumbers, numbers } from './tensor';
import type { OpFactory } from './types';
import { Attrs, need } from './types';

/** Integer element types QDQ can use: storage bits and signedness. */
const QTYPES: Partial<Record<DType, { bits: number; signed: boolean }>> = {
  uint8: { bits: 8, signed: false }, int8: { bits: 8, signed: true }, uint16: { bits: 16, signed: false }, int16: { bits: 16, signed: true },
  int32: { bits: 32, signed: true }, uint4: { bits: 4, signed: false }, int4: { bits: 4, signed: true },
};
const DTYPE_CODES: Record<number, DType> = { 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 21: 'uint4', 22: 'int4' };

/** The QuantParams a QDQ node describes for a tensor of `dims`. */
function qdqParams(dims: number[], scale: Tensor, zp: Tensor | undefined, qtype: DType, axis: number, blockSize: number): QuantParams {
  const t = QTYPES[qtype]!;
  const layout: QuantLayout = elementCount(scale.dims) === 1 && scale.dims.length <= 1 && blockSize === 0 ? { kind: 'tensor' }
    : blockSize > 0 ? { kind: 'block', axis: axis < 0 ? axis + dims.length : axis, blockSize } : { kind: 'channel', axis: axis < 0 ? axis + dims.length : axis };
  return {
    format: qtype, kind: 'int', bits: t.bits, signed: t.signed, layout,
    scales: floatData(scale), zeroPoints: zp ? Int32Array.from(numbers(zp)) : undefined,
  };
}

export const QuantizeLinear: OpFactory = (node) => {
  const a = new Attrs(node);
  const axis = a.int('axis', 1), blockSize = a.int('block_size', 0), outCode = a.int('output_dtype', 0);
  return (inputs) => {
    const x = need(inputs, 0, node), scale = need(inputs, 1, node), zp = inputs[2];
    const qtype: DType = zp?.dtype ?? DTYPE_CODES[outCode] ?? 'uint8';
    if (!QTYPES[qtype]) throw a.unsupported(`quantizing to ${qtype}`);
    const p = qdqParams(x.dims, scale, zp, qtype, axis, blockSize);
    const codes = quantizeValues(floatData(x), x.dims, p, `QuantizeLinear node '${node.name}'`);
    return [fromNumbers(qtype, x.dims, codes)];
  };
};

export const DequantizeLinear: OpFactory = (node) => {
  const a = new Attrs(node);
  const axis = a.int('axis', 1), blockSize = a.int('block_size', 0);
  return (inputs) => {
    const x = need(inputs, 0, node), scale = need(inputs, 1, node), zp = inputs[2];
    if (!QTYPES[x.dtype]) throw a.unsupported(`dequantizing ${x.dtype}`);
    const p = qdqParams(x.dims, scale, zp, x.dtype, axis, blockSize);
    return [{ dtype: 'float32', dims: [...x.dims], data: dequantizeCodes(numbers(x), x.dims, p, `DequantizeLinear node '${node.name}'`) }];
  };
};
