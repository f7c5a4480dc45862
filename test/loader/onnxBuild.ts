// SPDX-License-Identifier: Apache-2.0
/** Builds small ONNX models in tests with onnx-proto's encoder (hostile ones included). */
import { onnx } from 'onnx-proto';

export const FLOAT = 1, INT64 = 7, INT32 = 6, FLOAT16 = 10, INT4 = 22, FLOAT8E4M3FN = 17;

/** A ValueInfoProto for a tensor; string dims are symbolic. */
export function vi(name: string, dims: (number | string)[] | undefined, elemType = FLOAT): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined } },
  };
}

export function floatTensor(name: string, dims: number[], values?: number[]): onnx.ITensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from(values ?? Array.from({ length: n }, (_, i) => (i % 7) - 3));
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer) };
}

export function int64Tensor(name: string, values: number[], dims = [values.length]): onnx.ITensorProto {
  return { name, dims, dataType: INT64, int64Data: values };
}

type AttrValue = number | number[] | string | onnx.ITensorProto | onnx.IGraphProto;

/** A NodeProto; integer attrs as numbers, float attrs via `{ f: x }` style by passing a non-integer. */
export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, name = ''): onnx.INodeProto {
  const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([k, v]) => {
    const A = onnx.AttributeProto.AttributeType;
    if (typeof v === 'number') return Number.isInteger(v) ? { name: k, type: A.INT, i: v } : { name: k, type: A.FLOAT, f: v };
    if (typeof v === 'string') return { name: k, type: A.STRING, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name: k, type: A.INTS, ints: v };
    if ('node' in v || 'output' in v) return { name: k, type: A.GRAPH, g: v as onnx.IGraphProto };
    return { name: k, type: A.TENSOR, t: v as onnx.ITensorProto };
  });
  return { opType, input: inputs, output: outputs, attribute, name };
}

/** Encodes a ModelProto around a graph. */
export function encodeModel(graph: onnx.IGraphProto, opset = 17): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8, producerName: 'quantlens-test', opsetImport: [{ domain: '', version: opset }], graph: { name: 'g', ...graph },
  }).finish();
}

/** A small valid CNN-ish model: Conv → Relu → Flatten → Gemm, weights as initializers and one Constant node. */
export function tinyModel(): Uint8Array {
  return encodeModel({
    input: [vi('x', ['batch', 1, 4, 4])],
    output: [vi('y', ['batch', 3])],
    initializer: [floatTensor('w', [2, 1, 3, 3]), floatTensor('b', [2]), floatTensor('fc', [3, 8])],
    node: [
      node('Conv', ['x', 'w', 'b'], ['c'], { pads: [0, 0, 0, 0] }),
      node('Relu', ['c'], ['r']),
      node('Flatten', ['r'], ['f']),
      node('Constant', [], ['fcb'], { value: floatTensor('', [3], [0.5, -0.5, 1]) }),
      node('Gemm', ['f', 'fc', 'fcb'], ['y'], { transB: 1 }),
    ],
  });
}

/** A model whose one initializer 'w' [n] float lives in external data at `location` (Add x + w). */
export function externalModel(location: string, n = 4, extra: Record<string, string> = {}): Uint8Array {
  const externalData = Object.entries({ location, ...extra }).map(([key, value]) => ({ key, value }));
  return encodeModel({
    input: [vi('x', [n])], output: [vi('y', [n])],
    initializer: [{ name: 'w', dims: [n], dataType: FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData }],
    node: [node('Add', ['x', 'w'], ['y'])],
  });
}
