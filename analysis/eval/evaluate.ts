// SPDX-License-Identifier: Apache-2.0
/**
 * `eval`: the FP32 model in onnxruntime-node (the reference) and the quantized graph on the engine, run on the
 * same samples. Reports accuracy (with labels) or agreement/KL/SQNR/cosine per output, the engine's FP32
 * parity with onnxruntime, per-layer SQNR along the graph (engine FP32 taps vs quantized taps: where the error
 * enters), and per-layer latency with the kernel path each layer ran.
 */
import { compile, run, type Program } from '../../engine/index';
import type { Tensor } from '../../engine/ir';
import type { KernelPath } from '../../engine/quant-types';
import { QuantLensError } from '../../engine/errors';
import { collectActivationStats } from '../activations/collect';
import { OrtReference } from '../activations/ortReference';
import type { ActivationAccumulator } from '../activations/accumulator';
import type { QuantConfig } from '../config/types';
import type { CalibrationSource } from '../data/source';
import type { LoadedModel } from '../onnx/load';
import type { EvalAccuracy, EvalLayer, EvalReport } from '../report';
import { activationTensorsFor, buildEngineConfig, type BuiltQuant } from './engineConfig';
import { OutputComparison, type ComparisonResult } from './metrics';
import { pairedTop1 } from './significance';
import { gramsForConfig, type LayerGrams } from './layerGram';

export interface EvalRequest {
  loaded: LoadedModel;
  modelBytes: Uint8Array;
  config: QuantConfig;
  /** Samples to evaluate on (labels, when present, give accuracy). */
  evalSource: CalibrationSource;
  /** Samples activation ranges are calibrated on. */
  calibSource: CalibrationSource;
  batchSize?: number;
  /** Per-layer SQNR taps (default true). */
  perLayer?: boolean;
  /** Reuse activation statistics already collected (suggest evaluates many configs). */
  activationStats?: Map<string, ActivationAccumulator>;
  /** Reuse the FP32 reference outputs of the eval set (suggest). */
  reference?: ReferenceRun;
  /** Reuse the calibration statistics of GPTQ-rounded layers (suggest); missing ones are collected from calibSource. */
  layerGrams?: LayerGrams;
  signal?: AbortSignal;
}

export interface EvalOutcome {
  eval: EvalReport;
  built: BuiltQuant;
  activationStats: Map<string, ActivationAccumulator>;
}

/** Reference outputs (onnxruntime) and engine FP32 results per batch, cached across evaluations. */
export interface ReferenceRun {
  batches: { feeds: Record<string, Tensor>; labels?: Int32Array; ort: Map<string, Tensor>; fp32: Record<string, Tensor>; taps: Record<string, Tensor>; fp32Ms: number; size: number }[];
  fp32Timings: Map<string, { ms: number; path: KernelPath; op: string }>;
  samples: number;
  taps: string[];
}

/** Collect FP32 activation statistics for the tensors a config quantizes. */
export async function calibrateActivations(loaded: LoadedModel, modelBytes: Uint8Array, names: readonly string[], source: CalibrationSource,
  existing?: Map<string, ActivationAccumulator>, batchSize = 16): Promise<Map<string, ActivationAccumulator>> {
  const missing = names.filter((n) => !existing?.has(n));
  const out = existing ?? new Map<string, ActivationAccumulator>();
  if (missing.length === 0) return out;
  const outputs = loaded.model.graph.outputs.map((o) => o.name);
  const ref = await OrtReference.create(modelBytes, missing, loaded.file, outputs);
  try {
    const stats = await collectActivationStats(ref, source, missing, { batchSize });
    for (const [k, v] of stats) out.set(k, v);
  } finally {
    await ref.dispose();
  }
  return out;
}

type ReferenceBatch = ReferenceRun['batches'][number];

/**
 * The FP32 reference batch by batch: onnxruntime outputs and the engine's FP32 outputs and taps. Streamed, so
 * memory is bounded by one batch (taps of every layer included), whatever the size of the eval set.
 */
async function* referenceBatches(loaded: LoadedModel, modelBytes: Uint8Array, source: CalibrationSource, fp: Program, taps: string[],
  batchSize: number, timings?: Map<string, { ms: number; path: KernelPath; op: string }>): AsyncGenerator<ReferenceBatch> {
  const outputs = loaded.model.graph.outputs.map((o) => o.name);
  const ref = await OrtReference.create(modelBytes, [], loaded.file, outputs);
  try {
    for await (const b of source.batches(batchSize)) {
      const ortOut = await ref.run(b.feeds, outputs);
      const t0 = performance.now();
      const r = await run(fp, b.feeds, { taps, timings: true });
      const fp32Ms = performance.now() - t0;
      if (timings) addTimings(timings, r.timings ?? []);
      yield { feeds: b.feeds, ...(b.labels ? { labels: b.labels } : {}), ort: ortOut, fp32: r.outputs, taps: r.taps ?? {}, fp32Ms, size: b.size };
    }
  } finally {
    await ref.dispose();
  }
}

/** Run the FP32 reference once over an eval set and keep it (suggest verifies many configs on the same samples). */
export async function referenceRun(loaded: LoadedModel, modelBytes: Uint8Array, source: CalibrationSource, fp: Program, taps: string[], batchSize = 32): Promise<ReferenceRun> {
  const res: ReferenceRun = { batches: [], fp32Timings: new Map(), samples: 0, taps };
  for await (const b of referenceBatches(loaded, modelBytes, source, fp, taps, batchSize, res.fp32Timings)) {
    res.batches.push(b);
    res.samples += b.size;
  }
  return res;
}

async function* cached(r: ReferenceRun): AsyncGenerator<ReferenceBatch> {
  yield* r.batches;
}

/** Names of the float node outputs the per-layer SQNR follows. */
export function layerTaps(fp: Program): string[] {
  const inputs = new Set(fp.inputNames);
  return fp.nodes.map((n) => n.node.outputs[0]).filter((o) => o && !inputs.has(o));
}

/** Evaluate a config: see the file comment. */
export async function evaluate(req: EvalRequest): Promise<EvalOutcome> {
  const { loaded, modelBytes, config } = req;
  const graph = loaded.model.graph;
  const fp = compile(loaded.model);
  const stats = await calibrateActivations(loaded, modelBytes, activationTensorsFor(graph, config, fp.constants), req.calibSource, req.activationStats);
  const grams = await gramsForConfig(fp, config, req.calibSource, req.layerGrams, req.signal ? { signal: req.signal } : {});
  const built = buildEngineConfig(graph, config, stats, fp.constants, grams);
  const taps = req.reference ? req.reference.taps : req.perLayer === false ? [] : layerTaps(fp);
  const reference = req.reference ? cached(req.reference) : referenceBatches(loaded, modelBytes, req.evalSource, fp, taps, req.batchSize ?? 32);
  const qp = compile(loaded.model, built.engine);

  const outputNames = graph.outputs.map((o) => o.name);
  const quality = new Map(outputNames.map((n) => [n, new OutputComparison(n)] as const));
  const parity = new Map(outputNames.map((n) => [n, new OutputComparison(n)] as const));
  const layerCmp = new Map(taps.map((t) => [t, new OutputComparison(t)] as const));
  const qTimings = new Map<string, { ms: number; path: KernelPath; op: string }>();
  let fp32Ms = 0, qMs = 0, sampleCount = 0;
  for await (const b of reference) {
    sampleCount += b.size;
    if (req.signal?.aborted) throw new QuantLensError('cancelled', 'eval cancelled');
    const t0 = performance.now();
    const r = await run(qp, b.feeds, { taps, timings: true });
    qMs += performance.now() - t0;
    fp32Ms += b.fp32Ms;
    addTimings(qTimings, r.timings ?? []);
    for (const name of outputNames) {
      const ref = b.ort.get(name), fpOut = b.fp32[name], q = r.outputs[name];
      if (!ref || !fpOut || !q) continue;
      parity.get(name)?.add(ref.data as Float32Array, fpOut.data as Float32Array, ref.dims);
      quality.get(name)?.add(ref.data as Float32Array, q.data as Float32Array, ref.dims, b.labels);
    }
    for (const t of taps) {
      const a = b.taps[t], q = r.taps?.[t];
      if (a && q && a.data instanceof Float32Array && q.data instanceof Float32Array && a.data.length === q.data.length) layerCmp.get(t)?.add(a.data, q.data, a.dims);
    }
  }

  const results = outputNames.map((n) => (quality.get(n) as OutputComparison).result());
  const first = results[0];
  const parities = outputNames.map((n) => (parity.get(n) as OutputComparison).result());
  const samples = Math.max(sampleCount, 1);
  const layers: EvalLayer[] = [];
  for (const n of qp.nodes) {
    const tap = n.node.outputs[0];
    const t = qTimings.get(n.node.name);
    const cmp = layerCmp.get(tap)?.result();
    layers.push({ name: n.node.name, op: n.node.opType, sqnrDb: cmp ? cmp.sqnrDb : Number.NaN, kernel: t?.path ?? n.path, latencyMs: (t?.ms ?? 0) / samples });
  }
  const notApplicable: Record<string, string> = {};
  if (first?.notApplicable) {
    notApplicable.top1Agreement = first.notApplicable;
    notApplicable.kl = first.notApplicable;
  }
  if (!first?.accuracy) notApplicable.accuracy = first?.notApplicable ?? 'no labels given (--labels FILE)';
  const quantBits = built.layers.reduce((s, l) => s + l.weightBits, 0);
  const quantParams = built.layers.reduce((s, l) => s + l.params, 0);
  const evalReport: EvalReport = {
    parity: { maxAbsDiff: Math.max(0, ...parities.map((p) => p.maxAbsDiff)), maxRelDiff: Math.max(0, ...parities.map((p) => p.maxRelDiff)) },
    top1Agreement: first?.top1Agreement ?? null,
    kl: first?.kl ?? null,
    sqnrDb: first?.sqnrDb ?? Number.NaN,
    cosine: first?.cosine ?? Number.NaN,
    ...(first?.accuracy ? { accuracy: evalAccuracy(first.accuracy) } : {}),
    ...(Object.keys(notApplicable).length ? { notApplicable } : {}),
    layers,
    latencyMs: { fp32: fp32Ms / samples, quantized: qMs / samples },
    samples: sampleCount,
    outputs: results.map(({ accuracy: _a, ...rest }) => rest),
    weights: { avgBits: quantParams > 0 ? quantBits / quantParams : 0, sizeMB: quantBits / 8e6, fp32SizeMB: (quantParams * 4) / 1e6 },
  };
  return { eval: evalReport, built, activationStats: stats };
}

function addTimings(into: Map<string, { ms: number; path: KernelPath; op: string }>, timings: readonly { node: string; op: string; ms: number; path: KernelPath }[]): void {
  for (const t of timings) {
    const prev = into.get(t.node);
    into.set(t.node, { ms: (prev?.ms ?? 0) + t.ms, path: t.path, op: t.op });
  }
}

function evalAccuracy(a: NonNullable<ComparisonResult['accuracy']>): EvalAccuracy {
  const p = pairedTop1(a.referenceMisses, a.testMisses);
  return {
    fp32: a.reference,
    quantized: a.test,
    delta: a.test - a.reference,
    samples: a.samples,
    fp32Misses: a.referenceMisses,
    quantizedMisses: a.testMisses,
    paired: { lost: p.onlyA, gained: p.onlyB, pValue: p.pValue },
  };
}
