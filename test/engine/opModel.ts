// SPDX-License-Identifier: Apache-2.0
/** Builds a one-node ONNX model from an op case (test/engine/op-cases.ts) with onnx-proto, for engine-vs-onnxruntime checks. */
import { createRequire } from 'node:module';
import type { Tensor } from '../../engine/ir';
import { elementCount } from '../../engine/ir';
import { rng } from './helpers';

const require_ = createRequire(__filename);
const { onnx } = require_('onnx-proto') as { onnx: any };
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

export type CaseType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8';
const CODE: Record<CaseType, number> = { float32: DT.FLOAT, int64: DT.INT64, int32: DT.INT32, bool: DT.BOOL, uint8: DT.UINT8, int8: DT.INT8 };

/** Attribute values: a number is an int, `{ f }` a float, `{ fs }` floats, a string a string, `{ t }` a tensor. */
export type CaseAttr = number | number[] | string | { f: number } | { fs: number[] } | { t: { type: CaseType; dims: number[]; values: number[] } };

/** A node input: a graph input fed with seeded random data (`feed`), or an initializer with `values`; null = omitted. */
export type CaseInput = { type?: CaseType; dims: number[]; values?: number[]; range?: [number, number] } | null;

export interface OpCase {
  name: string;
  op: string;
  opset: number;
  attrs?: Record<string, CaseAttr>;
  inputs: CaseInput[];
  /** Number of node outputs (default 1). */
  outputs?: number;
}

function typed(type: CaseType, values: ArrayLike<number>): Tensor['data'] {
  switch (type) {
    case 'int64': return BigInt64Array.from(Array.from(values), (v) => BigInt(v));
    case 'int32': return Int32Array.from(values);
    case 'bool': case 'uint8': return Uint8Array.from(values);
    case 'int8': return Int8Array.from(values);
    default: return Float32Array.from(values);
  }
}

function tensorProto(name: string, type: CaseType, dims: number[], values: ArrayLike<number>): any {
  const arr = typed(type, values) as Float32Array;
  return { name, dataType: CODE[type], dims, rawData: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength) };
}

function attribute(name: string, v: CaseAttr): any {
  if (typeof v === 'number') return { name, type: AT.INT, i: v };
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
  if ('f' in v) return { name, type: AT.FLOAT, f: v.f };
  if ('fs' in v) return { name, type: AT.FLOATS, floats: v.fs };
  return { name, type: AT.TENSOR, t: tensorProto('', v.t.type, v.t.dims, v.t.values) };
}

/** The model bytes and the feeds for its graph inputs. */
export function buildOpModel(c: OpCase, seed: number): { bytes: Uint8Array; feeds: Record<string, Tensor> } {
  const r = rng(seed);
  const nodeInputs: string[] = [], inputs: any[] = [], inits: any[] = [];
  const feeds: Record<string, Tensor> = {};
  c.inputs.forEach((inp, i) => {
    if (!inp) { nodeInputs.push(''); return; }
    const name = `in${i}`, type = inp.type ?? 'float32';
    nodeInputs.push(name);
    if (inp.values) { inits.push(tensorProto(name, type, inp.dims, inp.values)); return; }
    const [lo, hi] = inp.range ?? [-2, 2];
    const vals = Array.from({ length: elementCount(inp.dims) }, () => (type === 'float32' ? lo + (hi - lo) * r() : Math.floor(lo + (hi - lo) * r())));
    feeds[name] = { dtype: type, dims: inp.dims, data: typed(type, vals) };
    inputs.push({ name, type: { tensorType: { elemType: CODE[type], shape: { dim: inp.dims.map((d) => ({ dimValue: d })) } } } });
  });
  const outNames = Array.from({ length: c.outputs ?? 1 }, (_, i) => `out${i}`);
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: c.opset }],
    producerName: 'quantlens-test',
    graph: {
      name: c.name,
      node: [{ opType: c.op, domain: '', input: nodeInputs, output: outNames, name: 'n0', attribute: Object.entries(c.attrs ?? {}).map(([k, v]) => attribute(k, v)) }],
      initializer: inits,
      input: inputs,
      output: outNames.map((name) => ({ name })),
    },
  };
  return { bytes: onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish(), feeds };
}
