// SPDX-License-Identifier: Apache-2.0
/**
 * `analyze`: load the model (never written), open the calibration data, run statistics and the three
 * sensitivity methods, and assemble the one Report — per-layer statistics, downsampled histograms, tags,
 * sensitivities with their standard errors, method agreement and a per-stage timing breakdown with the
 * share of time spent in onnxruntime, in the engine and in our own code. The CLI and the extension host
 * both run this inside the analysis worker (analysis/jobs).
 */
import { readFileSync } from 'node:fs';
import { QuantLensError } from '../engine/errors';
import type { Graph, ValueInfo } from '../engine/ir';
import { openCalibration, type CalibrationOptions } from './data';
import { describeLayers } from './layers';
import { loadModel, type LoadOptions } from './onnx/load';
import { getFormat } from './quant';
import type { Report } from './report';
import { newReport } from './reportModel';
import { analyzeLayers, type SensitivityMethod } from './sensitivity/analyzeLayers';
import { inferShapes } from './shapes/infer';
import { resolveInputShapes, type ShapeOverrides } from './shapes/inputs';

/** Everything `analyze` takes; plain JSON so it can cross into the worker. */
export interface AnalyzeOptions {
  data?: string;
  random?: number;
  seed?: number;
  labels?: string;
  shapes?: ShapeOverrides;
  preprocessing?: CalibrationOptions['preprocessing'];
  formats?: string[];
  methods?: SensitivityMethod[];
  batchSize?: number;
  perturbationSamples?: number;
  hessianSamples?: number;
  backend?: 'engine' | 'onnxruntime';
  targetRelError?: number;
  maxProbes?: number;
  layerHessianRows?: number;
  load?: LoadOptions;
}

export const DEFAULT_FORMATS = ['int8', 'int4'];

export interface RunContext {
  signal?: AbortSignal;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** Graph inputs with non-batch dims made concrete by --shape (dim 0 keeps its declared batch meaning). */
export function calibrationInputs(graph: Graph, file: string, shapes: ShapeOverrides, lenient: boolean): ValueInfo[] {
  let resolved: Map<string, number[]> | undefined;
  try {
    resolved = resolveInputShapes(graph, file, shapes).shapes;
  } catch (e) {
    // a data folder can still fix unknown dims from its files
    if (!lenient || !(e instanceof QuantLensError) || e.kind !== 'shape') throw e;
  }
  return graph.inputs.map((vi) => {
    const r = resolved?.get(vi.name);
    if (!r) return vi;
    const d0 = shapes[vi.name] ? null : vi.shape?.[0] ?? null;
    return { ...vi, shape: [d0, ...r.slice(1)] };
  });
}

/** Run the whole analysis and return the Report. */
export async function analyzeModel(file: string, opts: AnalyzeOptions = {}, ctx: RunContext = {}): Promise<Report> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const formats = opts.formats?.length ? opts.formats : DEFAULT_FORMATS;
  for (const f of formats) getFormat(f); // unknown ids fail before any work, listing the valid ones
  const loaded = await loadModel(file, opts.load);
  const bytes = readFileSync(file);
  const shapes = inferShapes(loaded.model, file, { overrides: opts.shapes ?? {} });
  const layers = describeLayers(loaded, { shapes });
  timings.load = performance.now() - t0;

  const graph = loaded.model.graph;
  const source = openCalibration({ ...graph, inputs: calibrationInputs(graph, file, opts.shapes ?? {}, opts.data !== undefined) }, {
    ...(opts.data !== undefined ? { data: opts.data } : {}),
    ...(opts.random !== undefined ? { random: opts.random } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.labels !== undefined ? { labels: opts.labels } : {}),
    ...(opts.preprocessing ? { preprocessing: opts.preprocessing } : {}),
  });
  const res = await analyzeLayers(loaded.model, bytes, file, source, {
    formats,
    ...(opts.methods ? { methods: opts.methods } : {}),
    ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
    ...(opts.perturbationSamples ? { perturbationSamples: opts.perturbationSamples } : {}),
    ...(opts.hessianSamples ? { hessianSamples: opts.hessianSamples } : {}),
    ...(opts.backend ? { backend: opts.backend } : {}),
    ...(opts.targetRelError ? { targetRelError: opts.targetRelError } : {}),
    ...(opts.maxProbes ? { maxProbes: opts.maxProbes } : {}),
    ...(opts.layerHessianRows ? { layerHessianRows: opts.layerHessianRows } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
  });
  Object.assign(timings, res.timings);

  const t1 = performance.now();
  for (const layer of layers) {
    const la = res.layers.get(layer.name);
    if (!la) continue;
    // weight statistics stay the loader's exact ones; the analysis adds activations, tags and sensitivity
    layer.weightStats ??= la.weightStats;
    layer.weightHistogram = la.weightHistogram;
    if (la.activationStats) layer.activationStats = la.activationStats;
    if (la.activationHistogram) layer.activationHistogram = la.activationHistogram;
    layer.tags.push(...la.tags);
    // a layer whose weights or activations hold NaN/Inf gets no recommendation from any of its tags
    if (layer.tags.some((t) => t.id === 'non-finite')) for (const t of layer.tags) delete t.suggestion;
    if (Object.keys(la.sensitivity).length) layer.sensitivity = la.sensitivity;
  }
  const report = newReport('analyze', loaded, shapes, layers);
  report.warnings.push(...res.warnings);
  report.agreement = res.agreement;
  const methods = new Set(opts.methods ?? ['perturbation', 'hessianTrace', 'layerHessian']);
  report.analysis = {
    calibration: source.description,
    samples: source.sampleCount,
    formats,
    outputKind: res.outputKind,
    output: res.output,
    backend: res.backend,
    ...(Object.keys(res.notApplicable).length ? { notApplicable: res.notApplicable } : {}),
    methods: {
      ...(methods.has('perturbation') ? { perturbation: { samples: res.perturbationSamples } } : {}),
      ...(methods.has('hessianTrace') ? { hessianTrace: { samples: res.hessianSamples, targetRelError: opts.targetRelError ?? 0.1, maxProbes: opts.maxProbes ?? 16 } } : {}),
      ...(methods.has('layerHessian') ? { layerHessian: { maxRows: opts.layerHessianRows ?? 256 } } : {}),
    },
  };
  timings.report = performance.now() - t1;
  timings.total = performance.now() - t0;
  report.timings = timings;
  report.analysis.timeShares = {
    onnxruntimeMs: res.onnxruntimeMs,
    engineMs: res.engineMs,
    oursMs: Math.max(0, timings.total - res.onnxruntimeMs - res.engineMs),
  };
  return report;
}
