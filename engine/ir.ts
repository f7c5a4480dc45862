// SPDX-License-Identifier: Apache-2.0
/**
 * The graph IR every layer of QuantLens shares. The engine is the lowest layer, so it owns these types;
 * analysis/onnx turns an ONNX file into them, the executor compiles them, the UI shows them.
 */

/** Element types, named as ONNX's TensorProto.DataType (lower-case). */
export type DType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool' | 'string'
  | 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz'
  | 'int4' | 'uint4' | 'float4e2m1'
  | 'complex64' | 'complex128';

/**
 * Element storage. Floating types narrower than 32 bits (float16, bfloat16, float8*, float4) are decoded to
 * Float32Array at load time; `dtype` keeps the declared type. int4/uint4 are unpacked to Int8Array/Uint8Array.
 * bool is a Uint8Array of 0/1. int64/uint64 stay 64-bit (BigInt64Array/BigUint64Array).
 */
export type TensorData =
  | Float32Array | Float64Array
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array
  | string[];

export interface Tensor {
  dtype: DType;
  /** Concrete dims (row-major). A scalar has dims []. */
  dims: number[];
  data: TensorData;
}

/** A dimension: a number when known, a string for a symbolic (named) dim, null when unknown. */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  dtype: DType;
  /** undefined when the model gives no shape at all. */
  shape?: Dim[];
  doc?: string;
}

export type Attr =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: Tensor[] }
  | { type: 'graphs'; value: Graph[] };

export interface Node {
  /** Unique within its graph. The loader names unnamed nodes `<OpType>_<index>`. Configs key layers by it. */
  name: string;
  opType: string;
  /** '' for the default ONNX domain ('ai.onnx' is normalised to ''). */
  domain: string;
  /** Input value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  doc?: string;
}

export interface Graph {
  name: string;
  /** Topologically ordered as in the file (the executor re-sorts and checks). Constant nodes are folded out. */
  nodes: Node[];
  /** Real inputs only (names that are also initializers are not listed here). */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Weights and constants: every `initializer` and every Constant node's value, by value name. */
  initializers: Map<string, Tensor>;
  /** Where each constant came from, for the UI and for export. */
  constantSources: Map<string, 'initializer' | 'constant-node'>;
  /** value_info entries, plus inferred shapes once shape inference has run. */
  valueInfo: Map<string, ValueInfo>;
  doc?: string;
}

export interface Model {
  irVersion: number;
  /** domain ('' for ai.onnx) → opset version. */
  opsets: Record<string, number>;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  doc: string;
  metadata: Record<string, string>;
  graph: Graph;
}

/** Number of elements of concrete dims; throws nothing, callers check Number.isSafeInteger. */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
