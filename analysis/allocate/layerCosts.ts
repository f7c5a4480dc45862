// SPDX-License-Identifier: Apache-2.0
/**
 * The inputs of the allocation ILP for a model, per (layer, weight format):
 * - loss: sensitivity from analysis/sensitivity — perturbation (the output KL/MSE with that layer's weight
 *   alone quantized, run on the engine from cached FP32 frontiers) or HAWQ-V2 Ω = Tr(H)/n·‖Q(W) − W‖² with
 *   the Hutchinson trace; plus the layer's input-activation perturbation at the chosen activation format;
 * - weight bits (codes + scales + metadata, from the format table), BOPs = MACs · w-bits · a-bits;
 * - latency measured on the engine on this machine: one program per format with every layer at that format,
 *   per-node timings averaged over repeated runs (the per-layer lookup table HAWQ-V3/OHQ measure on device).
 */
import { compile, fakeQuantize, run, type Program } from '../../engine/index';
import type { Tensor } from '../../engine/ir';
import type { EngineQuantConfig, QuantizedWeight } from '../../engine/quant-types';
import type { ActivationAccumulator } from '../activations/accumulator';
import { OrtReference } from '../activations/ortReference';
import { quantizableLayers, type QuantizableLayer } from '../config/toQuantSpec';
import type { TensorQuantSpec } from '../config/types';
import type { CalibrationSource } from '../data/source';
import { quantizeActivation, quantizeLayerWeight } from '../eval/engineConfig';
import type { LayerGrams } from '../eval/layerGram';
import type { LoadedModel } from '../onnx/load';
import { dequantizeRecord } from '../quant/toEngine';
import { frontierOf, type Frontier } from '../sensitivity/frontier';
import { hawqOmega, hutchinsonTrace } from '../sensitivity/hessianTrace';
import { LossAccumulator, classifyOutput, perSampleLoss, type OutputKind } from '../sensitivity/outputMetrics';

import type { AllocChoice, AllocLayer, AllocProblem } from './ilp';

export type SensitivityKind = 'perturbation' | 'hessian';

/** One candidate weight format with the spec it is quantized with. */
export interface Candidate {
  id: string;
  spec: TensorQuantSpec;
}

export interface CostRequest {
  loaded: LoadedModel;
  modelBytes: Uint8Array;
  program: Program;
  layers: QuantizableLayer[];
  candidates: Candidate[];
  /** Activation spec every layer's input uses (null: float activations). */
  activation: TensorQuantSpec | null;
  activationStats: ReadonlyMap<string, ActivationAccumulator>;
  source: CalibrationSource;
  sensitivity: SensitivityKind;
  /** Measure latency per (layer, format) on the engine. */
  measureLatency?: boolean;
  /** Calibration statistics of the layers GPTQ candidates can round; a layer without them gets no GPTQ choice. */
  grams?: LayerGrams;
  batchSize?: number;
  signal?: AbortSignal;
}

export interface LayerCostTable {
  problem: AllocProblem;
  outputKind: OutputKind;
  /** Samples the sensitivities were measured on. */
  samples: number;
}

/** Quantizable layers of a loaded model with folded weights (MatMul fed a Transpose of a stored weight). */
export function allocatableLayers(loaded: LoadedModel, program: Program): QuantizableLayer[] {
  return quantizableLayers(loaded.model.graph, program.constants);
}

/** Build the allocation problem (see the file comment). */
export async function buildCostTable(req: CostRequest): Promise<LayerCostTable> {
  const { loaded, program, layers } = req;
  const graph = loaded.model.graph;
  const candidatesOf = (l: QuantizableLayer): Candidate[] => req.candidates.filter((c) => c.spec.rounding !== 'gptq' || req.grams?.has(l.node.name));
  const weightOf = (l: QuantizableLayer, c: Candidate) => quantizeLayerWeight(l, c.spec, req.grams?.get(l.node.name));
  const output = graph.outputs[0].name;
  const aBits = req.activation ? bitsOfFormat(req.activation.format) : 32;

  // FP32 pass: frontier values for every layer, the reference output, per-node output sizes (for MACs)
  const frontiers: Frontier[] = layers.map((l) => {
    const f = frontierOf(graph, l.node);
    return { ...f, values: f.values.filter((v) => !program.constants.has(v)) };
  });
  /** Per layer: weight variants (candidate id → Q(W)) and the input-activation fake-quantizer, if any. */
  const targets = layers.map((l) => {
    const weights = new Map<string, Float32Array>();
    if (req.sensitivity === 'perturbation') for (const c of candidatesOf(l)) weights.set(c.id, dequantizeRecord(weightOf(l, c).record));
    const stats = req.activationStats.get(l.node.inputs[0]);
    const aq = req.activation && stats && stats.n > 0 ? quantizeActivation(req.activation, stats) : undefined;
    return { weights, aq };
  });
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const fetch = [...new Set([...frontiers.flatMap((f) => f.values), output, ...layers.map((l) => l.node.outputs[0])])].filter((n) => !inputNames.has(n));
  const ref = await OrtReference.create(req.modelBytes, fetch.filter((n) => n !== output), loaded.file, graph.outputs.map((o) => o.name));
  let kind: OutputKind = 'other';
  let samples = 0;
  const outElems = new Map<string, number>();
  const batches: Map<string, Tensor>[] = [];
  try {
    for await (const b of req.source.batches(req.batchSize ?? 16)) {
      const values = await ref.run(b.feeds, fetch);
      for (const [k, v] of Object.entries(b.feeds)) values.set(k, v);
      if (samples === 0) {
        const o = values.get(output);
        kind = o ? classifyOutput(o) : 'other';
        for (const l of layers) {
          const t = values.get(l.node.outputs[0]);
          if (t) outElems.set(l.node.name, t.dims.slice(1).reduce((a, c) => a * c, 1));
        }
      }
      batches.push(values);
      samples += b.size;
    }
  } finally {
    await ref.dispose();
  }
  // perturbation: each layer alone, each variant, downstream part only (fed the cached FP32 frontier)
  const scores = new Map<string, { weights: Map<string, number>; activation: number }>();
  for (const [i, l] of layers.entries()) {
    const wLoss = new Map<string, LossAccumulator>();
    const aLoss = new LossAccumulator();
    const override = (data: Float32Array) => ({ [l.weightName]: { dtype: 'float32' as const, dims: l.dims, data } });
    for (const values of batches) {
      const ref = values.get(output) as Tensor;
      const feeds: Record<string, Tensor> = {};
      for (const v of frontiers[i].values) feeds[v] = values.get(v) as Tensor;
      for (const [id, wq] of targets[i].weights) {
        const out = (await run(program, feeds, { outputs: [output], weightOverrides: override(wq), ...(req.signal ? { signal: req.signal } : {}) })).outputs[output];
        let acc = wLoss.get(id);
        if (!acc) wLoss.set(id, (acc = new LossAccumulator()));
        acc.add(perSampleLoss(ref, out, kind));
      }
      const x = values.get(l.node.inputs[0]);
      const aq = targets[i].aq;
      if (aq && x && x.data instanceof Float32Array) {
        const xq = fakeQuantize(x, aq, l.node.name);
        const out = (await run(program, { ...feeds, [l.node.inputs[0]]: xq }, { outputs: [output], ...(req.signal ? { signal: req.signal } : {}) })).outputs[output];
        aLoss.add(perSampleLoss(ref, out, kind));
      }
    }
    scores.set(l.node.name, {
      weights: new Map([...wLoss].map(([id, acc]) => [id, acc.result().value])),
      activation: targets[i].aq ? aLoss.result().value : 0,
    });
  }
  const hessianBatch = batches[0];

  const hessianLoss = new Map<string, Map<string, number>>();
  if (req.sensitivity === 'hessian' && hessianBatch) {
    for (const [i, l] of layers.entries()) hessianLoss.set(l.node.name, await hessianScores(program, l, frontiers[i].values, hessianBatch, output, kind, candidatesOf(l).map((c) => ({ id: c.id, weight: weightOf(l, c).record }))));
  }
  const latency = req.measureLatency ? await measureLatency(loaded, layers, req.candidates, req) : undefined;

  const allocLayers: AllocLayer[] = layers.map((l) => {
    const s = scores.get(l.node.name);
    const actLoss = s?.activation ?? 0;
    const params = l.dims.reduce((a, b) => a * b, 1);
    const macs = (outElems.get(l.node.name) ?? 0) * (params / Math.max(1, channelCount(l)));
    const choices: AllocChoice[] = candidatesOf(l).map((c) => {
      const q = weightOf(l, c);
      const wLoss = req.sensitivity === 'hessian' ? hessianLoss.get(l.node.name)?.get(c.id) ?? 0 : s?.weights.get(c.id) ?? 0;
      const lat = latency?.get(l.node.name)?.get(c.id);
      return {
        id: c.id, weightFormat: c.spec.format, activationFormat: req.activation?.format ?? null,
        loss: wLoss + actLoss, weightBits: q.bits, bops: macs * q.record.bits * aBits,
        ...(lat !== undefined ? { latencyMs: lat } : {}),
      };
    });
    return { name: l.node.name, op: l.node.opType, params, choices };
  });
  const fixedLatency = latency?.get('')?.get('') ?? 0;
  return { problem: { layers: allocLayers, fixed: { latencyMs: fixedLatency, bytes: fixedBytes(loaded, layers) } }, outputKind: kind, samples };
}

function channelCount(l: QuantizableLayer): number {
  const op = l.node.opType;
  const transB = l.node.attrs.transB?.type === 'int' && l.node.attrs.transB.value === 1;
  if (op === 'Conv') return l.dims[0];
  if (op === 'ConvTranspose') return l.dims[1];
  if (op === 'Gemm') return transB ? l.dims[0] : l.dims[1];
  return l.dims[l.dims.length - 1];
}

/** FP32 bytes of the weights that are not allocated (biases, norms, embeddings …). */
function fixedBytes(loaded: LoadedModel, layers: QuantizableLayer[]): number {
  const allocated = new Set(layers.map((l) => l.weightName));
  let bytes = 0;
  for (const [name, t] of loaded.model.graph.initializers) {
    if (allocated.has(name) || !(t.data instanceof Float32Array)) continue;
    bytes += t.data.byteLength;
  }
  return bytes;
}

function bitsOfFormat(format: string): number {
  const m = /(\d+)$/.exec(format);
  return m ? Number(m[1]) : 8;
}

/** HAWQ-V2 Ω per candidate: Hutchinson trace of the output loss w.r.t. the weight, times ‖Q(W) − W‖²/n. */
async function hessianScores(program: Program, l: QuantizableLayer, frontier: string[], values: Map<string, Tensor>,
  output: string, kind: OutputKind, candidates: { id: string; weight: QuantizedWeight }[]): Promise<Map<string, number>> {
  const feeds: Record<string, Tensor> = {};
  for (const v of frontier) feeds[v] = values.get(v) as Tensor;
  const forward = async (w?: Float32Array): Promise<Tensor> => (await run(program, feeds, {
    outputs: [output], ...(w ? { weightOverrides: { [l.weightName]: { dtype: 'float32', dims: l.dims, data: w } } } : {}),
  })).outputs[output];
  const reference = await forward();
  const loss = async (w: Float32Array): Promise<number> => {
    const per = perSampleLoss(reference, await forward(w), kind === 'other' ? 'other' : kind);
    let s = 0;
    for (const x of per) s += x;
    return s / per.length;
  };
  const w = l.tensor.data as Float32Array;
  const est = await hutchinsonTrace(w, loss, { targetRelError: 0.1, maxProbes: 16, minProbes: 4, seed: 101 });
  return new Map(candidates.map((c) => [c.id, hawqOmega(est.trace, w, dequantizeRecord(c.weight)).value]));
}

/** Per (layer, candidate) engine latency in ms per sample; key ''/'' holds the summed latency of all other nodes. */
async function measureLatency(loaded: LoadedModel, layers: QuantizableLayer[], candidates: Candidate[], req: CostRequest): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>(layers.map((l) => [l.node.name, new Map()]));
  let feeds: Record<string, Tensor> | undefined;
  let size = 1;
  for await (const b of req.source.batches(8)) { feeds = b.feeds; size = b.size; break; }
  if (!feeds) return out;
  const allocated = new Set(layers.map((l) => l.node.name));
  let other = 0;
  for (const c of candidates) {
    const config: EngineQuantConfig = { layers: {} };
    // the kernel and its cost depend on the format, not on which grid points the rounding picked
    const { rounding: _r, ...nearest } = c.spec;
    for (const l of layers) {
      const lc: EngineQuantConfig['layers'][string] = { weights: { [l.weightIndex]: quantizeLayerWeight(l, nearest).record } };
      const stats = req.activation ? req.activationStats.get(l.node.inputs[0]) : undefined;
      if (req.activation && stats && stats.n > 0) lc.inputs = { 0: quantizeActivation(req.activation, stats) };
      config.layers[l.node.name] = lc;
    }
    const p = compile(loaded.model, config);
    await run(p, feeds); // warm-up: first runs pay for lazily built kernels
    // the minimum over repeats: the machine is shared, and interference only ever adds time
    const best = new Map<string, number>();
    for (let r = 0; r < 5; r++) {
      const res = await run(p, feeds, { timings: true });
      for (const t of res.timings ?? []) best.set(t.node, Math.min(best.get(t.node) ?? Infinity, t.ms));
    }
    for (const l of layers) out.get(l.node.name)?.set(c.id, (best.get(l.node.name) ?? 0) / size);
    if (c === candidates[0]) for (const [n, ms] of best) if (!allocated.has(n)) other += ms / size;
  }
  out.set('', new Map([['', other]]));
  return out;
}
