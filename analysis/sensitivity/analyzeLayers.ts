// SPDX-License-Identifier: Apache-2.0
/**
 * The statistics + sensitivity pipeline behind `quantlens analyze`, per weighted layer:
 *   1. one streamed onnxruntime FP32 pass → activation histograms/moments/per-channel ranges of every layer
 *      input, and the reservoir of layer input rows (layer-local Hessian);
 *   2. weight statistics and Q(W) per format → layer Hessian tr(ΔW H ΔWᵀ);
 *   3. a second streamed pass over the perturbation samples → per-layer output change on the engine, fed the
 *      cached FP32 frontier (only downstream nodes run); its first batch is kept for
 *   4. the Hutchinson Hessian trace (forward passes only) → Ω per format;
 *   5. tags, and Spearman agreement between the three rankings.
 */
import type { Model, Node, Tensor } from '../../engine/ir';
import { compile, run } from '../../engine';
import { QuantLensError } from '../../engine/errors';
import type { Histogram, ScoreWithError, Sensitivity, Tag, TensorStats } from '../report';
import type { CalibrationSource } from '../data/source';
import { ActivationAccumulator } from '../activations/accumulator';
import { collectActivationStats } from '../activations/collect';
import { OrtReference } from '../activations/ortReference';
import { tensorStatsFrom } from '../outliers/metrics';
import { tagTensor } from '../outliers/tags';
import { channelAxisFor } from '../layers';
import { quantizableLayers } from '../config/toQuantSpec';
import type { RunningHistogram } from '../quant/histogram';
import { frontierOf } from './frontier';
import { hawqOmega, hutchinsonTrace } from './hessianTrace';
import { layerHessianError } from './layerHessian';
import { RowReservoir, layerGeometry } from './layerInputs';
import { classifyOutput, notApplicableReason, type OutputKind, perSampleLoss } from './outputMetrics';
import { PerturbationRunner, type PerturbationTarget } from './perturbation';
import { spearman } from './spearman';
import { activationQuantizer, quantizeWeight } from './variants';

export type SensitivityMethod = 'perturbation' | 'hessianTrace' | 'layerHessian';

export interface AnalyzeLayersOptions {
  formats: string[];
  methods?: SensitivityMethod[];
  batchSize?: number;
  /** Samples used by perturbation (default: all). */
  perturbationSamples?: number;
  /** Hutchinson settings (the trace uses the first perturbation batch). */
  targetRelError?: number;
  maxProbes?: number;
  minProbes?: number;
  /** Rows kept per layer for the layer-local Hessian. */
  layerHessianRows?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface LayerAnalysis {
  name: string;
  weightStats?: TensorStats;
  activationStats?: TensorStats;
  weightHistogram?: Histogram;
  activationHistogram?: Histogram;
  tags: Tag[];
  sensitivity: Sensitivity;
}

export interface LayersAnalysisResult {
  layers: Map<string, LayerAnalysis>;
  agreement: Record<string, number>;
  outputKind: OutputKind;
  output: string;
  notApplicable: Record<string, string>;
  timings: Record<string, number>;
  onnxruntimeMs: number;
  engineMs: number;
  perturbationSamples: number;
  hessianSamples: number;
  warnings: string[];
}

/** Bins kept in the report's histograms (the 2048-bin originals are downsampled for transport). */
export const REPORT_HISTOGRAM_BINS = 128;

/** Downsample a running histogram to `bins` bins over its exact [min, max]. */
export function downsampleHistogram(h: RunningHistogram, bins = REPORT_HISTOGRAM_BINS): Histogram | undefined {
  if (h.count === 0) return undefined;
  const lo = h.min, hi = h.max > h.min ? h.max : h.min + 1e-12;
  const counts = new Array<number>(bins).fill(0);
  const e = h.edges, c = h.counts;
  for (let i = 0; i < c.length; i++) {
    if (c[i] === 0) continue;
    const x = Math.min(hi, Math.max(lo, (e[i] + e[i + 1]) / 2));
    counts[Math.min(bins - 1, Math.floor(((x - lo) / (hi - lo)) * bins))] += c[i];
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins), counts };
}

interface LayerWork {
  node: Node;
  weightName?: string;
  weight?: Tensor;
  inputName?: string;
  reservoir?: RowReservoir;
  quantized: Map<string, Float32Array>;
}

const now = () => performance.now();


/** Run statistics and the chosen sensitivity methods for every weighted layer. */
export async function analyzeLayers(model: Model, modelBytes: Uint8Array, file: string, source: CalibrationSource,
  opts: AnalyzeLayersOptions): Promise<LayersAnalysisResult> {
  const graph = model.graph;
  const methods = new Set(opts.methods ?? ['perturbation', 'hessianTrace', 'layerHessian']);
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const notApplicable: Record<string, string> = {};
  const progress = opts.onProgress ?? (() => undefined);
  const output = graph.outputs[0]?.name;
  if (!output) throw new QuantLensError('model-format', `${file}: the model has no outputs`, file);

  // the engine program's constants include weights folded at compile time (a Transpose of a stored weight)
  let t0 = now();
  const program = compile(model);
  timings.compile = now() - t0;
  const isConstant = (v: string) => program.constants.has(v);
  const work: LayerWork[] = quantizableLayers(graph, program.constants).map((ql) => {
    const node = ql.node;
    const weightName = ql.weightName;
    const weight = ql.tensor;
    const inputName = ql.weightIndex !== 0 && !isConstant(node.inputs[0]) ? node.inputs[0] : undefined;
    const geo = methods.has('layerHessian') && ql.weightIndex === 1 ? layerGeometry(node, weight) : null;
    return {
      node, weightName, weight, inputName, quantized: new Map(),
      ...(geo ? { reservoir: new RowReservoir(node, geo, opts.layerHessianRows ?? 256, (opts.seed ?? 0) + 17) } : {}),
    };
  });
  // activation × activation MatMuls (attention) have no weight, but their inputs (e.g. post-Softmax) get
  // statistics and tags too
  const weighted = new Set(work.map((w) => w.node.name));
  const statsOnly = graph.nodes.filter((n) => n.opType === 'MatMul' && !weighted.has(n.name) && n.inputs.length >= 2
    && n.inputs.every((i) => i !== '' && !isConstant(i)));
  const activationNames = [...new Set([...work.map((w) => w.inputName), ...statsOnly.map((n) => n.inputs[0])].filter((n): n is string => !!n))];
  const frontiers = new Map(work.map((w) => [w.node.name, frontierOf(graph, w.node, isConstant).values]));
  const needsFrontier = methods.has('perturbation') || methods.has('hessianTrace');
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const expose = [...new Set([...activationNames, ...(needsFrontier ? [...frontiers.values()].flat() : [])])]
    .filter((n) => !inputNames.has(n) && n !== output);

  // 1. FP32 statistics pass
  t0 = now();
  const ref = await OrtReference.create(modelBytes, expose, file, graph.outputs.map((o) => o.name));
  let outputKind: OutputKind = 'other';
  let firstOutput: Tensor | undefined;
  try {
    const reservoirs = work.filter((w) => w.reservoir && w.inputName);
    const acc = await collectActivationStats(ref, source, activationNames, {
      batchSize: opts.batchSize ?? 8,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onProgress: (d, n) => progress('statistics', d, n),
      onBatch: (values) => {
        if (!firstOutput) firstOutput = values.get(output);
        for (const w of reservoirs) {
          const x = values.get(w.inputName!);
          if (x && x.data instanceof Float32Array) w.reservoir!.add(x);
        }
      },
    });
    timings.statistics = now() - t0;
    if (firstOutput) outputKind = classifyOutput(firstOutput);
    const na = firstOutput ? notApplicableReason(outputKind, firstOutput) : undefined;
    if (na) { notApplicable.kl = na; notApplicable.top1Agreement = na; }

    // 2. weight statistics, Q(W) per format, layer Hessian
    t0 = now();
    const layers = new Map<string, LayerAnalysis>();
    for (const w of work) {
      const la: LayerAnalysis = { name: w.node.name, tags: [], sensitivity: {} };
      layers.set(w.node.name, la);
      const wt = w.weight!;
      const wacc = new ActivationAccumulator(w.weightName!, () => channelAxisFor(w.node, wt.dims));
      wacc.add(wt.data as Float32Array, wt.dims);
      la.weightStats = tensorStatsFrom(wacc);
      la.weightHistogram = downsampleHistogram(wacc.histogram);
      la.tags.push(...tagTensor(la.weightStats, wacc.histogram, { kind: 'weight', skewness: wacc.skewness }).map(prefix('weight')));
      const a = w.inputName ? acc.get(w.inputName) : undefined;
      if (a) {
        la.activationStats = tensorStatsFrom(a);
        la.activationHistogram = downsampleHistogram(a.histogram);
        const producer = graph.nodes.find((n) => n.outputs.includes(w.inputName!))?.opType;
        la.tags.push(...tagTensor(la.activationStats, a.histogram, { kind: 'activation', skewness: a.skewness, ...(producer ? { producerOp: producer } : {}) }).map(prefix('activation')));
      }
      const finite = (la.weightStats.nanCount + la.weightStats.infCount) === 0;
      if (!finite) {
        la.sensitivity.notApplicable = { all: 'the weight holds NaN/Inf values: sensitivity is not computed and no format is suggested' };
        continue;
      }
      for (const f of opts.formats) w.quantized.set(f, quantizeWeight(w.node, f, wt.data as Float32Array, wt.dims));
      if (methods.has('layerHessian')) {
        if (w.reservoir && w.reservoir.rows.length > 0) {
          la.sensitivity.layerHessian = finiteScores(Object.fromEntries(opts.formats.map((f) =>
            [f, layerHessianError(w.reservoir!, wt.data as Float32Array, w.quantized.get(f)!)])), 'layerHessian', la.sensitivity);
        } else {
          (la.sensitivity.notApplicable ??= {}).layerHessian = `${w.node.opType} with weight [${wt.dims.join(', ')}] has no row geometry (2-D Conv, Gemm and MatMul only)`;
        }
      }
      progress('layer-hessian', layers.size, work.length);
    }
    for (const node of statsOnly) {
      const a = acc.get(node.inputs[0]);
      if (!a) continue;
      const activationStats = tensorStatsFrom(a);
      const producer = graph.nodes.find((n) => n.outputs.includes(node.inputs[0]))?.opType;
      layers.set(node.name, {
        name: node.name, activationStats, sensitivity: {},
        ...(downsampleHistogram(a.histogram) ? { activationHistogram: downsampleHistogram(a.histogram)! } : {}),
        tags: tagTensor(activationStats, a.histogram, { kind: 'activation', skewness: a.skewness, ...(producer ? { producerOp: producer } : {}) }).map(prefix('activation')),
      });
    }
    timings.layerHessian = now() - t0;

    // 3 + 4. perturbation and Hessian trace on the engine, fed the cached FP32 frontier
    let perturbationSamples = 0, hessianSamples = 0, engineMs = 0;
    if (needsFrontier) {
      const active = work.filter((w) => w.quantized.size > 0);
      const targets: PerturbationTarget[] = active.map((w) => {
        const a = w.inputName ? acc.get(w.inputName) : undefined;
        const canQuantAct = a && a.histogram.count > 0 && a.histogram.nanCount + a.histogram.infCount === 0;
        return {
          node: w.node, frontier: frontiers.get(w.node.name)!, weightName: w.weightName!, weightDims: w.weight!.dims,
          weights: methods.has('perturbation') ? w.quantized : new Map(),
          activations: methods.has('perturbation') && canQuantAct
            ? new Map(opts.formats.map((f) => [f, activationQuantizer(a!.histogram, f)])) : new Map(),
        };
      });
      const runner = new PerturbationRunner(program, targets, output, outputKind, opts.signal);
      const limit = Math.min(source.sampleCount, opts.perturbationSamples ?? source.sampleCount);
      let hessianBatch: Map<string, Tensor> | undefined;
      t0 = now();
      const fetch = runner.neededValues().filter((n) => !inputNames.has(n));
      for await (const batch of source.batches(opts.batchSize ?? 8)) {
        if (batch.offset >= limit) break;
        if (opts.signal?.aborted) throw new QuantLensError('cancelled', 'analysis cancelled');
        const values = await ref.run(batch.feeds, fetch);
        for (const [k, v] of Object.entries(batch.feeds)) values.set(k, v);
        if (!hessianBatch) { hessianBatch = values; hessianSamples = batch.size; }
        if (methods.has('perturbation')) await runner.addBatch(values);
        perturbationSamples += batch.size;
        progress('perturbation', perturbationSamples, limit);
      }
      timings.perturbation = now() - t0;
      engineMs += runner.engineMs;
      if (methods.has('perturbation')) {
        for (const [name, s] of runner.results()) {
          const la = layers.get(name)!;
          la.sensitivity.perturbation = finiteScores(s.weights, 'perturbation', la.sensitivity);
          la.sensitivity.activationPerturbation = finiteScores(s.activations, 'activationPerturbation', la.sensitivity);
          la.sensitivity.perturbationMetric = outputKind === 'other' ? 'mse' : 'kl';
          la.sensitivity.top1Agreement = s.top1Agreement;
          la.sensitivity.outputSqnrDb = s.sqnrDb;
        }
      }
      if (methods.has('hessianTrace') && hessianBatch) {
        t0 = now();
        let done = 0;
        for (const w of active) {
          const r = await traceForLayer(program, w, frontiers.get(w.node.name)!, hessianBatch, output, outputKind, opts);
          engineMs += r.engineMs;
          const la = layers.get(w.node.name)!;
          la.sensitivity.traceProbes = r.probes;
          if (finite(r.trace)) la.sensitivity.trace = r.trace;
          la.sensitivity.hessianTrace = finiteScores(Object.fromEntries(opts.formats.map((f) =>
            [f, hawqOmega(r.trace, w.weight!.data as Float32Array, w.quantized.get(f)!)])), 'hessianTrace', la.sensitivity);
          progress('hessian-trace', ++done, active.length);
        }
        timings.hessianTrace = now() - t0;
      }
    }
    warnings.push(...source.warnings);
    return {
      layers, agreement: agreementOf(layers, opts.formats), outputKind, output, notApplicable, timings,
      onnxruntimeMs: ref.ortMs, engineMs, perturbationSamples, hessianSamples, warnings,
    };
  } finally {
    await ref.dispose();
  }
}

const prefix = (side: string) => (t: Tag): Tag => ({ ...t, reason: `${side}: ${t.reason}` });

const finite = (s: ScoreWithError) => Number.isFinite(s.value) && Number.isFinite(s.stdError ?? 0);

/**
 * Keep the finite scores; a NaN/Inf score (the output went non-finite) is dropped and explained in
 * `notApplicable[method]` — never replaced by an invented number.
 */
function finiteScores(r: Record<string, ScoreWithError>, method: string, s: Sensitivity): Record<string, ScoreWithError> {
  const bad = Object.entries(r).filter(([, v]) => !finite(v)).map(([k]) => k);
  if (bad.length) (s.notApplicable ??= {})[method] = `non-finite result at ${bad.join(', ')} (NaN/Inf in the model output)`;
  return Object.fromEntries(Object.entries(r).filter(([, v]) => finite(v)));
}

async function traceForLayer(program: ReturnType<typeof compile>, w: LayerWork, frontier: string[],
  values: Map<string, Tensor>, output: string, kind: OutputKind, opts: AnalyzeLayersOptions) {
  const feeds: Record<string, Tensor> = {};
  for (const v of frontier) feeds[v] = values.get(v)!;
  let engineMs = 0;
  const forward = async (weight?: Float32Array) => {
    const t0 = now();
    const r = await run(program, feeds, {
      outputs: [output], ...(weight ? { weightOverrides: { [w.weightName!]: { dtype: 'float32', dims: w.weight!.dims, data: weight } } } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    engineMs += now() - t0;
    return r.outputs[output];
  };
  const reference = await forward();
  const loss = async (weight: Float32Array) => {
    const l = perSampleLoss(reference, await forward(weight), kind);
    let s = 0;
    for (const x of l) s += x;
    return s / l.length;
  };
  const est = await hutchinsonTrace(w.weight!.data as Float32Array, loss, {
    targetRelError: opts.targetRelError ?? 0.1, maxProbes: opts.maxProbes ?? 16, minProbes: opts.minProbes ?? 4,
    seed: (opts.seed ?? 0) + 101, ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { trace: est.trace, probes: est.probes, engineMs };
}

/** Spearman ρ between the methods' layer rankings, per format ('perturbation~hessianTrace@int8'). */
function agreementOf(layers: Map<string, LayerAnalysis>, formats: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  const methods = ['perturbation', 'hessianTrace', 'layerHessian'] as const;
  for (const f of formats) {
    for (let i = 0; i < methods.length; i++) for (let j = i + 1; j < methods.length; j++) {
      const a: number[] = [], b: number[] = [];
      for (const la of layers.values()) {
        const x = la.sensitivity[methods[i]]?.[f]?.value, y = la.sensitivity[methods[j]]?.[f]?.value;
        if (x !== undefined && y !== undefined) { a.push(x); b.push(y); }
      }
      const rho = spearman(a, b);
      if (rho !== null) out[`${methods[i]}~${methods[j]}@${f}`] = rho;
    }
  }
  return out;
}
