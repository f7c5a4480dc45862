// SPDX-License-Identifier: Apache-2.0
/**
 * Forward passes of "the graph downstream of one layer", fed the layer's FP32 frontier (cached from the
 * reference pass) and a replacement weight. Two interchangeable backends:
 *   - engine (the default): QuantLens's executor with `weightOverrides` and intermediate feeds (partial runs),
 *     FP32 convolutions on its WebAssembly SIMD kernels (Winograd for 3×3, split over the cores);
 *   - onnxruntime: a per-layer sub-model (a copy of the model bytes cut to the downstream nodes, with the
 *     frontier values and the layer's weight as graph inputs); native AVX code, about 1.2–1.3× faster on a
 *     ResNet-18-sized analysis (test/bench/analyze.bench.ts).
 * Both compute in FP32 with the dequantized weight, so their results agree to float rounding (tested).
 */
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import type { DType, Tensor } from '../../engine/ir';
import { run, type Program } from '../../engine';
import { QuantLensError } from '../../engine/errors';
import { fromOrt, toOrt } from '../activations/ortReference';
import type { Frontier } from './frontier';

export type BackendName = 'engine' | 'onnxruntime';

/** Runs one layer's downstream part; `ms` is the time spent inside the backend. */
export interface DownstreamRunner {
  run(feeds: Record<string, Tensor>, weight: Float32Array): Promise<Tensor>;
  dispose(): Promise<void>;
  ms: number;
}

export interface DownstreamLayer {
  weightName: string;
  weightDims: number[];
  frontier: Frontier;
  /** dtype of each frontier value (from the cached tensors). */
  frontierTypes: Map<string, DType>;
}

/** The engine backend: partial runs of the compiled program with the weight overridden. */
export function engineRunner(program: Program, layer: DownstreamLayer, output: string, signal?: AbortSignal): DownstreamRunner {
  const r: DownstreamRunner = {
    ms: 0,
    async run(feeds, weight) {
      const t0 = performance.now();
      const res = await run(program, feeds, {
        outputs: [output], weightOverrides: { [layer.weightName]: { dtype: 'float32', dims: layer.weightDims, data: weight } },
        ...(signal ? { signal } : {}),
      });
      r.ms += performance.now() - t0;
      return res.outputs[output];
    },
    async dispose() { /* the program is shared */ },
  };
  return r;
}

const ONNX_TYPES: Partial<Record<DType, number>> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, uint32: 12, uint64: 13,
};

/**
 * Cut `model` to the layer's downstream nodes (plus the constant-only nodes they read, e.g. a Transpose of a
 * stored weight), with the frontier values and the layer weight as graph inputs and `output` as the output.
 */
export function downstreamModelBytes(model: onnx.IModelProto, layer: DownstreamLayer, downstreamOutputs: Set<string>,
  isConstant: (v: string) => boolean, output: string): Uint8Array {
  const g = model.graph!;
  const nodes = (g.node ?? []).filter((n) => {
    const outs = (n.output ?? []).filter(Boolean);
    if (outs.some((o) => downstreamOutputs.has(o))) return true;
    return outs.length > 0 && outs.every((o) => isConstant(o) && o !== layer.weightName);
  });
  const used = new Set<string>();
  const collect = (ns: onnx.INodeProto[]) => {
    for (const n of ns) {
      for (const i of n.input ?? []) if (i) used.add(i);
      for (const a of n.attribute ?? []) {
        if (a.g) collect(a.g.node ?? []);
        for (const sg of a.graphs ?? []) collect(sg.node ?? []);
      }
    }
  };
  collect(nodes);
  const initializers = (g.initializer ?? []).filter((t) => t.name && used.has(t.name) && t.name !== layer.weightName);
  const vi = (name: string, dtype: DType, dims?: number[]): onnx.IValueInfoProto => {
    const elemType = ONNX_TYPES[dtype];
    if (!elemType) throw new QuantLensError('unsupported-op', `cannot feed a ${dtype} value ('${name}') to a downstream sub-model`);
    return { name, type: { tensorType: { elemType, ...(dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {}) } } };
  };
  const inputs = [
    ...layer.frontier.values.map((v) => vi(v, layer.frontierTypes.get(v) ?? 'float32')),
    vi(layer.weightName, 'float32', layer.weightDims),
  ];
  const sub = onnx.ModelProto.create({
    irVersion: model.irVersion, opsetImport: model.opsetImport, producerName: 'quantlens-downstream',
    graph: { name: 'downstream', node: nodes, initializer: initializers, input: inputs, output: [{ name: output }] },
  });
  return onnx.ModelProto.encode(sub).finish();
}

/** The onnxruntime backend: one session on the layer's downstream sub-model. */
export async function ortRunner(model: onnx.IModelProto, layer: DownstreamLayer, downstreamOutputs: Set<string>,
  isConstant: (v: string) => boolean, output: string, file: string): Promise<DownstreamRunner> {
  const t0 = performance.now();
  const bytes = downstreamModelBytes(model, layer, downstreamOutputs, isConstant, output);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (e) {
    throw new QuantLensError('model-format', `${file}: onnxruntime cannot run the part downstream of '${layer.weightName}' (${(e as Error).message.split('\n')[0]})`, file);
  }
  const r: DownstreamRunner = {
    ms: performance.now() - t0,
    async run(feeds, weight) {
      const f: Record<string, ort.Tensor> = {};
      for (const v of layer.frontier.values) {
        const t = feeds[v];
        if (!t) throw new QuantLensError('calibration', `frontier value '${v}' was not captured`);
        f[v] = toOrt(t);
      }
      f[layer.weightName] = new ort.Tensor('float32', weight, layer.weightDims);
      const t1 = performance.now();
      const out = await session.run(f, [output]);
      r.ms += performance.now() - t1;
      return fromOrt(out[output] as ort.Tensor);
    },
    async dispose() { await session.release(); },
  };
  return r;
}
