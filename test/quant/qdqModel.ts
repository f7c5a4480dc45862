// SPDX-License-Identifier: Apache-2.0
/**
 * Test helper: a one-input ONNX model y = DequantizeLinear(QuantizeLinear(x, scale, zp), 1, 0) (the raw codes,
 * or the FP8 value a code stands for) and z = DequantizeLinear(QuantizeLinear(x, scale, zp), scale, zp),
 * run in onnxruntime-node, to cross-check our rounding bit for bit.
 */
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

/** ONNX TensorProto.DataType numbers (onnx-proto's enum predates the 8/4-bit types). */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, FLOAT8E4M3FN: 17, FLOAT8E5M2: 19, UINT4: 21, INT4: 22 } as const;

export interface QdqCase {
  /** Element type of the quantized tensor. */
  type: number;
  opset: number;
  x: Float32Array;
  dims: number[];
  scale: Float32Array;
  scaleDims: number[];
  /** Zero points in the quantized type's integer domain (omitted for float8: zero). */
  zeroPoint?: Int32Array;
  axis?: number;
  blockSize?: number;
  /** QuantizeLinear saturate attribute (float8 only). */
  saturate?: number;
}

function rawOf(type: number, values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  if (type === DT.INT4 || type === DT.UINT4) {
    const out = new Uint8Array(Math.ceil(n / 2));
    for (let i = 0; i < n; i++) out[i >> 1] |= (values[i] & 0xf) << ((i & 1) * 4);
    return out;
  }
  // int8/uint8 bytes; float8 zero points are 0 (the +0 pattern)
  return Uint8Array.from(values, (v) => v & 0xff);
}

function tensor(name: string, type: number, dims: number[], raw: Uint8Array): onnx.ITensorProto {
  return { name, dataType: type, dims, rawData: raw };
}

function modelBytes(c: QdqCase): Uint8Array {
  const zpCount = c.scale.length;
  const zp = c.zeroPoint ?? new Int32Array(zpCount);
  const attrs = (withSat: boolean): onnx.IAttributeProto[] => {
    const a: onnx.IAttributeProto[] = [];
    if (c.axis !== undefined) a.push({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: c.axis });
    if (c.blockSize !== undefined) a.push({ name: 'block_size', type: onnx.AttributeProto.AttributeType.INT, i: c.blockSize });
    if (withSat && c.saturate !== undefined) a.push({ name: 'saturate', type: onnx.AttributeProto.AttributeType.INT, i: c.saturate });
    return a;
  };
  const graph: onnx.IGraphProto = {
    name: 'qdq',
    node: [
      { opType: 'QuantizeLinear', input: ['x', 's', 'zp'], output: ['q'], attribute: attrs(true), name: 'quant' },
      { opType: 'DequantizeLinear', input: ['q', 'one', 'zero'], output: ['y'], name: 'codes' },
      { opType: 'DequantizeLinear', input: ['q', 's', 'zp'], output: ['z'], attribute: attrs(false), name: 'dequant' },
    ],
    initializer: [
      { name: 's', dataType: DT.FLOAT, dims: c.scaleDims, floatData: Array.from(c.scale) },
      tensor('zp', c.type, c.scaleDims, rawOf(c.type, zp)),
      { name: 'one', dataType: DT.FLOAT, dims: [], floatData: [1] },
      tensor('zero', c.type, [], rawOf(c.type, [0])),
    ],
    input: [{ name: 'x', type: { tensorType: { elemType: DT.FLOAT, shape: { dim: c.dims.map((d) => ({ dimValue: d })) } } } }],
    output: [
      { name: 'y', type: { tensorType: { elemType: DT.FLOAT } } },
      { name: 'z', type: { tensorType: { elemType: DT.FLOAT } } },
    ],
  };
  const model: onnx.IModelProto = { irVersion: 10, opsetImport: [{ domain: '', version: c.opset }], graph, producerName: 'quantlens-test' };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Runs the case in onnxruntime-node: codes (or FP8 values) and the dequantized tensor. */
export async function runQdq(c: QdqCase): Promise<{ codes: Float32Array; dequantized: Float32Array }> {
  const session = await ort.InferenceSession.create(modelBytes(c));
  try {
    const out = await session.run({ x: new ort.Tensor('float32', c.x, c.dims) });
    return { codes: out.y.data as Float32Array, dequantized: out.z.data as Float32Array };
  } finally {
    await session.release();
  }
}
