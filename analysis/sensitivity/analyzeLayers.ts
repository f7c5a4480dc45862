// SPDX-License-Identifier: Apache-2.0
/**
 * The statistics + sensitivity pipeline behind `quantlens analyze`, per weighted layer:
 *   1. one streamed onnxruntime FP32 pass → activation histograms/moments/per-channel ranges of every layer
 *      input, the reservoir of layer input rows (layer-local Hessian), and the FP32 frontier values of the
 *      first batches (bounded by `cacheBytes`);
 *   2. weight statistics and Q(W) per format → layer Hessian tr(ΔW H ΔWᵀ);
 *   3. layer by layer, on the part of the graph downstream of the layer (engine or onnxruntime backend, fed
 *      the cached frontier): perturbation of weights and of the input activation per format, then the
 *      Hutchinson Hessian trace (forward passes only) → Ω per format;
 *   4. tags, and Spearman agreement between the three rankings.
 */
import type { Model, Node, Tensor } from '../../engine/ir';
import { compile } from '../../engine';
import { QuantLensError } from '../../engine/errors';
import type { Histogram, ScoreWithError, Sensitivity, Tag, TensorStats } from '../report';
import type { CalibrationSource } from '../data/source';
import { ActivationAccumulator } from '../activations/accumulator';
import { collectActivationStats } from '../activations/collect';
import { OrtReference } from '../activations/ortReference';
import { tensorStatsFrom } from '../outliers/metrics';
import { addLayerTags, tagTensor } from '../outliers/tags';
import { channelAxisFor } from '../layers';
import { quantizableLayers } from '../config/toQuantSpec';
import type { RunningHistogram } from '../quant/histogram';
import { frontierOf, type Frontier } from './frontier';
import { type BackendName, type DownstreamRunner, engineRunner, ortRunner } from './downstream';
import { onnx } from 'onnx-proto';
import { hawqOmega, hutchinsonTrace } from './hessianTrace';
import { OrtRowProducts } from './layerHessian';
import { RowReservoir, layerGeometry } from './layerInputs';
import { classifyOutput, notApplicableReason, type OutputKind, perSampleLoss } from './outputMetrics';
import { frontierFeeds, perturbLayer, type PerturbationTarget } from './perturbation';
import { spearman } from './spearman';
import { activationQuantizer, quantizeWeight } from './variants';

export type SensitivityMethod = 'perturbation' | 'hessianTrace' | 'layerHessian';

export interface AnalyzeLayersOptions {
  formats: string[];
  methods?: SensitivityMethod[];
  batchSize?: number;
  /** Samples used by perturbation (default: all, within `cacheBytes`). */
  perturbationSamples?: number;
  /** Samples used by the Hessian trace (default 8; rounded up to whole batches). */
  hessianSamples?: number;
  /** Where downstream forward passes run (default engine; see downstream.ts). */
  backend?: BackendName;
  /** Memory for cached FP32 frontier values (default 512 MB); fewer perturbation samples when exceeded. */
  cacheBytes?: number;
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
  backend: BackendName;
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
  const frontiers = new Map<string, Frontier>(work.map((w) => [w.node.name, frontierOf(graph, w.node, isConstant)]));
  const needsFrontier = methods.has('perturbation') || methods.has('hessianTrace');
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const expose = [...new Set([...activationNames, ...(needsFrontier ? [...frontiers.values()].flatMap((f) => f.values) : [])])]
    .filter((n) => !inputNames.has(n) && n !== output);

  // 1. FP32 statistics pass
  t0 = now();
  let backendOrtMs = 0;
  const ref = await OrtReference.create(modelBytes, expose, file, graph.outputs.map((o) => o.name));
  let outputKind: OutputKind = 'other';
  let firstOutput: Tensor | undefined;
  try {
    const reservoirs = work.filter((w) => w.reservoir && w.inputName);
    // the FP32 frontier values of the first batches are kept for the perturbation and Hessian passes
    const cacheNames = needsFrontier ? [...new Set([...[...frontiers.values()].flatMap((f) => f.values), output])] : [];
    const wantSamples = Math.min(source.sampleCount, opts.perturbationSamples ?? source.sampleCount,
      methods.has('perturbation') ? Infinity : opts.hessianSamples ?? 8);
    const cacheCap = opts.cacheBytes ?? 512 * 2 ** 20;
    const cached: Map<string, Tensor>[] = [];
    let cachedSamples = 0, cachedBytes = 0;
    const acc = await collectActivationStats(ref, source, activationNames, {
      extraFetch: cacheNames,
      batchSize: opts.batchSize ?? 8,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onProgress: (d, n) => progress('statistics', d, n),
      onBatch: (values, batch) => {
        if (!firstOutput) firstOutput = values.get(output);
        if (needsFrontier && cachedSamples < wantSamples) {
          const keep = new Map<string, Tensor>();
          let bytes = 0;
          for (const n of cacheNames) {
            const t = values.get(n);
            if (t) { keep.set(n, t); bytes += (t.data as Float32Array).byteLength ?? 0; }
          }
          if (cached.length === 0 || cachedBytes + bytes <= cacheCap) {
            cached.push(keep); cachedSamples += batch.size; cachedBytes += bytes;
          }
        }
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

    // 2. weight statistics, Q(W) per format, layer Hessian (row products ΔW·x on onnxruntime)
    t0 = now();
    const rowProducts = methods.has('layerHessian') ? await OrtRowProducts.create() : undefined;
    const layers = new Map<string, LayerAnalysis>();
    for (const w of work) {
      const la: LayerAnalysis = { name: w.node.name, tags: [], sensitivity: {} };
      layers.set(w.node.name, la);
      const wt = w.weight!;
      const wacc = new ActivationAccumulator(w.weightName!, () => channelAxisFor(w.node, wt.dims));
      wacc.add(wt.data as Float32Array, wt.dims);
      la.weightStats = tensorStatsFrom(wacc);
      la.weightHistogram = downsampleHistogram(wacc.histogram);
      addLayerTags(la.tags, 'weight', tagTensor(la.weightStats, wacc.histogram, { kind: 'weight', skewness: wacc.skewness }));
      const a = w.inputName ? acc.get(w.inputName) : undefined;
      if (a) {
        la.activationStats = tensorStatsFrom(a);
        la.activationHistogram = downsampleHistogram(a.histogram);
        const producer = graph.nodes.find((n) => n.outputs.includes(w.inputName!))?.opType;
        addLayerTags(la.tags, 'activation', tagTensor(la.activationStats, a.histogram, { kind: 'activation', skewness: a.skewness, ...(producer ? { producerOp: producer } : {}) }));
      }
      const finite = (la.weightStats.nanCount + la.weightStats.infCount) === 0;
      if (!finite) {
        la.sensitivity.notApplicable = { all: 'the weight holds NaN/Inf values: sensitivity is not computed and no format is suggested' };
        continue;
      }
      for (const f of opts.formats) w.quantized.set(f, quantizeWeight(w.node, f, wt.data as Float32Array, wt.dims));
      if (methods.has('layerHessian')) {
        if (w.reservoir && w.reservoir.rows.length > 0) {
          const packed = OrtRowProducts.pack(w.reservoir);
          const scores: Record<string, ScoreWithError> = {};
          for (const f of opts.formats) scores[f] = await rowProducts!.error(w.reservoir, packed, wt.data as Float32Array, w.quantized.get(f)!);
          la.sensitivity.layerHessian = finiteScores(scores, 'layerHessian', la.sensitivity);
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
        tags: addLayerTags([], 'activation', tagTensor(activationStats, a.histogram, { kind: 'activation', skewness: a.skewness, ...(producer ? { producerOp: producer } : {}) })),
      });
    }
    if (rowProducts) { backendOrtMs += rowProducts.ms; await rowProducts.dispose(); }
    timings.layerHessian = now() - t0;

    // 3 + 4. perturbation and Hessian trace, layer by layer, on the downstream part fed the cached frontier
    let perturbationSamples = 0, hessianSamples = 0, engineMs = 0;
    const backend: BackendName = opts.backend ?? 'engine';
    if (needsFrontier && cached.length) {
      if (methods.has('perturbation') && cachedSamples < Math.min(source.sampleCount, opts.perturbationSamples ?? Infinity)) {
        warnings.push(`perturbation used the first ${cachedSamples} samples: caching more FP32 activations would exceed ${Math.round(cacheCap / 2 ** 20)} MB`);
      }
      const hessianBatches: Map<string, Tensor>[] = [];
      const wantHessian = opts.hessianSamples ?? 8;
      for (const b of cached) {
        if (hessianSamples >= wantHessian) break;
        const cut = leadingSlice(b, wantHessian - hessianSamples, output);
        hessianBatches.push(cut);
        hessianSamples += cut.get(output)?.dims[0] ?? 1;
      }
      perturbationSamples = methods.has('perturbation') ? cachedSamples : 0;
      const proto = backend === 'onnxruntime' ? onnx.ModelProto.decode(modelBytes) : undefined;
      const active = work.filter((w) => w.quantized.size > 0);
      t0 = now();
      let tPert = 0, tTrace = 0, done = 0;
      for (const w of active) {
        const frontier = frontiers.get(w.node.name)!;
        const frontierTypes = new Map(frontier.values.map((v) => [v, cached[0].get(v)?.dtype ?? 'float32'] as const));
        const layer = { weightName: w.weightName!, weightDims: w.weight!.dims, frontier, frontierTypes };
        const downstreamOutputs = new Set(graph.nodes.filter((n) => frontier.downstream.has(n.name)).flatMap((n) => n.outputs));
        const runner: DownstreamRunner = proto
          ? await ortRunner(proto, layer, downstreamOutputs, isConstant, output, file)
          : engineRunner(program, layer, output, opts.signal);
        try {
          const la = layers.get(w.node.name)!;
          const wdata = w.weight!.data as Float32Array;
          if (methods.has('perturbation')) {
            const tp = now();
            const a = w.inputName ? acc.get(w.inputName) : undefined;
            const canQuantAct = a && a.histogram.count > 0 && a.histogram.nanCount + a.histogram.infCount === 0;
            const target: PerturbationTarget = {
              node: w.node, frontier: frontier.values, weights: w.quantized,
              activations: canQuantAct ? new Map(opts.formats.map((f) => [f, activationQuantizer(a!.histogram, f)])) : new Map(),
            };
            const s = await perturbLayer(runner, target, wdata, cached, output, outputKind, opts.signal);
            la.sensitivity.perturbation = finiteScores(s.weights, 'perturbation', la.sensitivity);
            la.sensitivity.activationPerturbation = finiteScores(s.activations, 'activationPerturbation', la.sensitivity);
            la.sensitivity.perturbationMetric = outputKind === 'other' ? 'mse' : 'kl';
            la.sensitivity.top1Agreement = s.top1Agreement;
            la.sensitivity.outputSqnrDb = s.sqnrDb;
            tPert += now() - tp;
          }
          if (methods.has('hessianTrace')) {
            const tt = now();
            const r = await traceForLayer(runner, w, frontier.values, hessianBatches, outputKind, opts);
            la.sensitivity.traceProbes = r.probes;
            if (finite(r.trace)) la.sensitivity.trace = r.trace;
            la.sensitivity.hessianTrace = finiteScores(Object.fromEntries(opts.formats.map((f) =>
              [f, hawqOmega(r.trace, wdata, w.quantized.get(f)!)])), 'hessianTrace', la.sensitivity);
            tTrace += now() - tt;
          }
        } finally {
          if (proto) backendOrtMs += runner.ms; else engineMs += runner.ms;
          await runner.dispose();
        }
        progress('sensitivity', ++done, active.length);
      }
      if (methods.has('perturbation')) timings.perturbation = tPert;
      if (methods.has('hessianTrace')) timings.hessianTrace = tTrace;
      timings.sensitivitySetup = Math.max(0, now() - t0 - tPert - tTrace);
    }
    warnings.push(...source.warnings);
    return {
      layers, agreement: agreementOf(layers, opts.formats), outputKind, output, notApplicable, timings,
      onnxruntimeMs: ref.ortMs + backendOrtMs, engineMs, backend, perturbationSamples, hessianSamples, warnings,
    };
  } finally {
    await ref.dispose();
  }
}

/**
 * The first `n` samples of a cached batch, when every cached value has the batch as its dim 0 (then a slice
 * is a valid smaller batch); otherwise the whole batch.
 */
function leadingSlice(values: Map<string, Tensor>, n: number, output: string): Map<string, Tensor> {
  const B = values.get(output)?.dims[0] ?? 0;
  if (n >= B || [...values.values()].some((t) => t.dims[0] !== B || Array.isArray(t.data))) return values;
  const out = new Map<string, Tensor>();
  for (const [k, t] of values) {
    const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
    const data = (t.data as Float32Array).subarray(0, n * per) as Tensor['data'];
    out.set(k, { dtype: t.dtype, dims: [n, ...t.dims.slice(1)], data });
  }
  return out;
}

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

async function traceForLayer(runner: DownstreamRunner, w: LayerWork, frontier: string[],
  batches: readonly Map<string, Tensor>[], kind: OutputKind, opts: AnalyzeLayersOptions) {
  const wdata = w.weight!.data as Float32Array;
  const feeds = batches.map((b) => frontierFeeds(b, frontier, w.node.name));
  // the reference is this backend's own FP32 output, so the loss is exactly 0 at the FP32 weights
  const reference: Tensor[] = [];
  for (const f of feeds) reference.push(await runner.run(f, wdata));
  const loss = async (weight: Float32Array) => {
    let s = 0, n = 0;
    for (let i = 0; i < feeds.length; i++) {
      const l = perSampleLoss(reference[i], await runner.run(feeds[i], weight), kind);
      for (const x of l) { s += x; n++; }
    }
    return s / n;
  };
  const est = await hutchinsonTrace(wdata, loss, {
    targetRelError: opts.targetRelError ?? 0.1, maxProbes: opts.maxProbes ?? 16, minProbes: opts.minProbes ?? 4,
    seed: (opts.seed ?? 0) + 101, ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { trace: est.trace, probes: est.probes };
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
