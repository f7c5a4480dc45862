// SPDX-License-Identifier: Apache-2.0
/**
 * Builds tiny single-node ONNX models (QLinearMatMul, QLinearConv, MatMulNBits, MatMul) with onnx-proto, so
 * tests and benchmarks can run onnxruntime on exactly the quantized inputs and parameters our kernels get.
 */
import { createRequire } from 'node:module';

const require_ = createRequire(__filename);
const { onnx } = require_('onnx-proto') as { onnx: any };
const DT = onnx.TensorProto.DataType;

export type Elem = 'float32' | 'uint8' | 'int8' | 'int32';
const code: Record<Elem, number> = { float32: DT.FLOAT, uint8: DT.UINT8, int8: DT.INT8, int32: DT.INT32 };

/** An initializer: name, element type, dims and values. */
export interface Init { name: string; type: Elem; dims: number[]; data: ArrayLike<number> }

function tensor(t: Init): any {
  const arr = t.type === 'float32' ? Float32Array.from(t.data) : t.type === 'int32' ? Int32Array.from(t.data)
    : t.type === 'int8' ? Int8Array.from(t.data) : Uint8Array.from(t.data);
  return { name: t.name, dataType: code[t.type], dims: t.dims, rawData: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength) };
}

function valueInfo(name: string, type: Elem, dims: (number | string)[]): any {
  return { name, type: { tensorType: { elemType: code[type], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

/** Attribute values: ints, int lists, floats. */
export type AttrValue = number | number[] | { f: number };

function attribute(name: string, v: AttrValue): any {
  if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
  if (typeof v === 'number') return { name, type: onnx.AttributeProto.AttributeType.INT, i: v };
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v.f };
}

/** One-node model: graph inputs `inputs`, constant `inits`, one output. */
export function singleNodeModel(opts: {
  op: string; domain?: string; nodeInputs: string[]; attrs?: Record<string, AttrValue>;
  inputs: { name: string; type: Elem; dims: (number | string)[] }[]; inits: Init[];
  output: { name: string; type: Elem; dims: (number | string)[] };
}): Uint8Array {
  const opsets = [{ domain: '', version: 13 }];
  if (opts.domain) opsets.push({ domain: opts.domain, version: 1 });
  const model = {
    irVersion: 8,
    opsetImport: opsets,
    producerName: 'quantlens-test',
    graph: {
      name: 'g',
      node: [{ opType: opts.op, domain: opts.domain ?? '', input: opts.nodeInputs, output: [opts.output.name], name: 'n0',
        attribute: Object.entries(opts.attrs ?? {}).map(([k, v]) => attribute(k, v)) }],
      initializer: opts.inits.map(tensor),
      input: opts.inputs.map((i) => valueInfo(i.name, i.type, i.dims)),
      output: [valueInfo(opts.output.name, opts.output.type, opts.output.dims)],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

/** QLinearMatMul: A u8 [m,k] (graph input) × B s8 [k,n] (initializer), per-tensor or per-column B scale. */
export function qlinearMatMulModel(p: { m: number | string; k: number; n: number; aScale: number; aZp: number; b: Int8Array;
  bScale: Float32Array; bZp: Int8Array; yScale: number; yZp: number }): Uint8Array {
  const per = p.bScale.length > 1 ? [p.n] : [];
  return singleNodeModel({
    op: 'QLinearMatMul',
    nodeInputs: ['a', 'a_scale', 'a_zp', 'b', 'b_scale', 'b_zp', 'y_scale', 'y_zp'],
    inputs: [{ name: 'a', type: 'uint8', dims: [p.m, p.k] }],
    inits: [
      { name: 'a_scale', type: 'float32', dims: [], data: [p.aScale] },
      { name: 'a_zp', type: 'uint8', dims: [], data: [p.aZp] },
      { name: 'b', type: 'int8', dims: [p.k, p.n], data: p.b },
      { name: 'b_scale', type: 'float32', dims: per, data: p.bScale },
      { name: 'b_zp', type: 'int8', dims: per, data: p.bZp },
      { name: 'y_scale', type: 'float32', dims: [], data: [p.yScale] },
      { name: 'y_zp', type: 'uint8', dims: [], data: [p.yZp] },
    ],
    output: { name: 'y', type: 'uint8', dims: [p.m, p.n] },
  });
}

/** QLinearConv: X u8 NCHW (graph input), W s8 (initializer), int32 bias, per-tensor or per-channel W scale. */
export function qlinearConvModel(p: { xDims: number[]; w: Int8Array; wDims: number[]; xScale: number; xZp: number;
  wScale: Float32Array; wZp: Int8Array; yScale: number; yZp: number; bias?: Int32Array; attrs: Record<string, AttrValue> }): Uint8Array {
  const per = p.wScale.length > 1 ? [p.wDims[0]] : [];
  const inits: Init[] = [
    { name: 'x_scale', type: 'float32', dims: [], data: [p.xScale] },
    { name: 'x_zp', type: 'uint8', dims: [], data: [p.xZp] },
    { name: 'w', type: 'int8', dims: p.wDims, data: p.w },
    { name: 'w_scale', type: 'float32', dims: per, data: p.wScale },
    { name: 'w_zp', type: 'int8', dims: per, data: p.wZp },
    { name: 'y_scale', type: 'float32', dims: [], data: [p.yScale] },
    { name: 'y_zp', type: 'uint8', dims: [], data: [p.yZp] },
  ];
  const nodeInputs = ['x', 'x_scale', 'x_zp', 'w', 'w_scale', 'w_zp', 'y_scale', 'y_zp'];
  if (p.bias) { inits.push({ name: 'bias', type: 'int32', dims: [p.wDims[0]], data: p.bias }); nodeInputs.push('bias'); }
  return singleNodeModel({
    op: 'QLinearConv', nodeInputs, attrs: p.attrs,
    inputs: [{ name: 'x', type: 'uint8', dims: p.xDims }], inits,
    output: { name: 'y', type: 'uint8', dims: ['N', 'C', 'H', 'W'] },
  });
}

/** MatMulNBits (com.microsoft): A f32 [m,k] × 4-bit B [n, k/bs, bs/2] with per-block f32 scales [n·k/bs]. */
export function matMulNBitsModel(p: { m: number | string; k: number; n: number; blockSize: number; packed: Uint8Array; scales: Float32Array; accuracyLevel: number }): Uint8Array {
  const blocks = Math.ceil(p.k / p.blockSize);
  return singleNodeModel({
    op: 'MatMulNBits', domain: 'com.microsoft',
    nodeInputs: ['a', 'b', 'scales'],
    attrs: { K: p.k, N: p.n, bits: 4, block_size: p.blockSize, accuracy_level: p.accuracyLevel },
    inputs: [{ name: 'a', type: 'float32', dims: [p.m, p.k] }],
    inits: [
      { name: 'b', type: 'uint8', dims: [p.n, blocks, p.blockSize / 2], data: p.packed },
      { name: 'scales', type: 'float32', dims: [p.n * blocks], data: p.scales },
    ],
    output: { name: 'y', type: 'float32', dims: [p.m, p.n] },
  });
}
