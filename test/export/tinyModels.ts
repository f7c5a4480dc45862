// SPDX-License-Identifier: Apache-2.0
/** Small ONNX models built in code with onnx-proto, and reference quantization helpers, for export tests. */
import { onnx } from 'onnx-proto';
import type { QuantLayout, QuantizedWeight } from '../../engine/quant-types';
import { scaleIndexer } from '../../analysis/export/represent';

export interface Init { name: string; dims: number[]; data: Float32Array }

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function randn(r: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
}

/** Encode a float model: one graph, FP32 inputs/outputs, the given nodes and initializers. */
export function buildModel(spec: {
  opset: number;
  inputs: [string, number[]][];
  outputs: [string, number[]][];
  inits: Init[];
  nodes: { op: string; inputs: string[]; outputs: string[]; name: string; attrs?: Record<string, number | number[]> }[];
}): Uint8Array {
  const vi = ([name, dims]: [string, number[]]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const attr = (name: string, v: number | number[]): onnx.IAttributeProto => Array.isArray(v)
    ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v }
    : { name, type: onnx.AttributeProto.AttributeType.INT, i: v };
  const model: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset }],
    producerName: 'quantlens-test',
    graph: {
      name: 'g',
      input: spec.inputs.map(vi),
      output: spec.outputs.map(vi),
      initializer: spec.inits.map((t) => ({ name: t.name, dims: t.dims, dataType: 1, rawData: new Uint8Array(new Float32Array(t.data).buffer) })),
      node: spec.nodes.map((n) => ({ name: n.name, opType: n.op, input: n.inputs, output: n.outputs, attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)) })),
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/** Scale-per-group absmax, then codes: integers (symmetric) or nearest table level. */
export function quantizeWeight(w: Float32Array, dims: number[], layout: QuantLayout, fmt:
  { format: string; kind: 'int'; bits: number } | { format: string; kind: 'table'; table: number[] }): QuantizedWeight {
  const probe = { layout, scales: new Float32Array(0) } as unknown as QuantizedWeight;
  const nScales = layout.kind === 'tensor' ? 1 : layout.kind === 'channel' ? dims[layout.axis]
    : dims.map((d, i) => (i === layout.axis ? Math.ceil(d / layout.blockSize) : d)).reduce((a, b) => a * b, 1);
  const idx = scaleIndexer(probe, dims);
  const absmax = new Float32Array(nScales);
  w.forEach((v, i) => { absmax[idx(i)] = Math.max(absmax[idx(i)], Math.abs(v)); });
  const top = fmt.kind === 'int' ? 2 ** (fmt.bits - 1) - 1 : Math.max(...fmt.table.map(Math.abs));
  const scales = Float32Array.from(absmax, (m) => (m > 0 ? m / top : 1));
  const codes = new Int32Array(w.length);
  w.forEach((v, i) => {
    const x = v / scales[idx(i)];
    if (fmt.kind === 'int') codes[i] = Math.max(-top - 1, Math.min(top, roundHalfEven(x)));
    else codes[i] = fmt.table.reduce((best, l, j) => (Math.abs(l - x) < Math.abs(fmt.table[best] - x) ? j : best), 0);
  });
  return fmt.kind === 'int'
    ? { format: fmt.format, kind: 'int', bits: fmt.bits, signed: true, layout, scales, codes, dims }
    : { format: fmt.format, kind: 'table', bits: Math.ceil(Math.log2(fmt.table.length)), signed: false, layout, scales, codes, dims, table: Float32Array.from(fmt.table), tableOffset: 0 };
}

/** FP8 E4M3FN positive levels (0 … 448), built from the bit layout. */
export function e4m3Levels(): number[] {
  const out: number[] = [];
  for (let e = 0; e < 16; e++) for (let m = 0; m < 8; m++) {
    if (e === 15 && m === 7) continue;
    out.push(e === 0 ? m * 2 ** -9 : (1 + m / 8) * 2 ** (e - 7));
  }
  return out;
}
