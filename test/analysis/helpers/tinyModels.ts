// SPDX-License-Identifier: Apache-2.0
// Tiny hand-built ONNX graphs (encoded with onnx-proto) for the analysis tests: written to a temp folder so
// the loader, onnxruntime and the engine all read the same bytes.
import { onnx } from 'onnx-proto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Init { name: string; dims: number[]; data: Float32Array }
export interface NodeSpec { op: string; inputs: string[]; outputs: string[]; name?: string; attrs?: Record<string, number | number[] | string> }

function attr(name: string, v: number | number[] | string): onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
  return Number.isInteger(v) ? { name, type: onnx.AttributeProto.AttributeType.INT, i: v }
    : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v };
}

const vi = (name: string, shape: (number | string)[]): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: 1, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

/** Encode a single-graph FP32 model. */
export function buildModel(spec: {
  inputs: [string, (number | string)[]][]; outputs: [string, (number | string)[]][];
  nodes: NodeSpec[]; inits: Init[]; opset?: number;
}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'quantlens-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph: {
      name: 'g',
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `${n.op}_${i}`, opType: n.op, input: n.inputs, output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)),
      })),
      initializer: spec.inits.map((t) => ({ name: t.name, dims: t.dims, dataType: 1, rawData: new Uint8Array(t.data.buffer.slice(0)) })),
      input: spec.inputs.map(([n, s]) => vi(n, s)),
      output: spec.outputs.map(([n, s]) => vi(n, s)),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Write model bytes to a fresh temp folder; returns the file path. */
export function writeTemp(bytes: Uint8Array, name = 'model.onnx'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ql-model-'));
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** Deterministic pseudo-random floats (no Math.random in tests). */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s + 0.5) / 4294967296; };
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}
