// SPDX-License-Identifier: Apache-2.0
/**
 * Perturbation sensitivity: quantize one layer alone — its weights, or separately its input activation — at
 * each candidate format, run only the downstream part of the graph (fed the FP32 frontier values cached from
 * the onnxruntime pass) and measure the change of the model output against FP32: per-sample KL for
 * classifier outputs, MSE otherwise (mean ± standard error), plus SQNR and top-1 agreement (null with a
 * reason when the output is not logits).
 */
import type { Node, Tensor } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';
import type { ScoreWithError } from '../report';
import { OutputComparison } from '../eval/metrics';
import type { Program } from '../../engine';
import { run } from '../../engine';
import type { DownstreamRunner } from './downstream';
import { LossAccumulator, type OutputKind, perSampleLoss } from './outputMetrics';

/** One layer to perturb, with its quantized variants already computed. */
export interface PerturbationTarget {
  node: Node;
  /** Value names to feed (the layer's frontier). */
  frontier: string[];
  weightName?: string;
  weightDims?: number[];
  /** Format id → dequantized Q(W). */
  weights: Map<string, Float32Array>;
  /** Format id → fake-quantizer of the layer's input activation (input 0). */
  activations: Map<string, (x: Float32Array, dims: readonly number[]) => Float32Array>;
}

export interface PerturbationScores {
  /** Weight-only perturbation: format → loss. */
  weights: Record<string, ScoreWithError>;
  /** Input-activation-only perturbation: format → loss. */
  activations: Record<string, ScoreWithError>;
  /** Format → top-1 agreement of the weight-quantized run (null when not applicable). */
  top1Agreement: Record<string, number | null>;
  /** Format → SQNR (dB) of the output for the weight-quantized run. */
  sqnrDb: Record<string, number>;
}

/** The frontier feeds of one cached batch. */
export function frontierFeeds(values: Map<string, Tensor>, frontier: readonly string[], layer: string): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const v of frontier) {
    const x = values.get(v);
    if (!x) throw new QuantLensError('calibration', `value '${v}' needed to perturb '${layer}' was not captured`);
    feeds[v] = x;
  }
  return feeds;
}

/**
 * Perturb one layer over the cached batches (each holds the frontier values and the FP32 model output) on a
 * downstream runner; `weight` is the layer's FP32 weight (used while only the activation is quantized).
 */
export async function perturbLayer(runner: DownstreamRunner, t: PerturbationTarget, weight: Float32Array,
  batches: readonly Map<string, Tensor>[], output: string, kind: OutputKind, signal?: AbortSignal): Promise<PerturbationScores> {
  const w = new Map<string, { loss: LossAccumulator; cmp: OutputComparison }>();
  const a = new Map<string, LossAccumulator>();
  const inName = t.node.inputs[0];
  for (const values of batches) {
    const ref = values.get(output);
    if (!ref) throw new QuantLensError('calibration', `the FP32 pass did not return output '${output}'`);
    const feeds = frontierFeeds(values, t.frontier, t.node.name);
    for (const [fmt, wq] of t.weights) {
      if (signal?.aborted) throw new QuantLensError('cancelled', 'analysis cancelled');
      const out = await runner.run(feeds, wq);
      let slot = w.get(fmt);
      if (!slot) w.set(fmt, (slot = { loss: new LossAccumulator(), cmp: new OutputComparison(output) }));
      slot.loss.add(perSampleLoss(ref, out, kind));
      slot.cmp.add(ref.data as Float32Array, out.data as Float32Array, ref.dims);
    }
    const x = values.get(inName);
    if (!x || !(x.data instanceof Float32Array)) continue;
    for (const [fmt, fq] of t.activations) {
      if (signal?.aborted) throw new QuantLensError('cancelled', 'analysis cancelled');
      const out = await runner.run({ ...feeds, [inName]: { ...x, data: fq(x.data, x.dims) } }, weight);
      let acc = a.get(fmt);
      if (!acc) a.set(fmt, (acc = new LossAccumulator()));
      acc.add(perSampleLoss(ref, out, kind));
    }
  }
  return scoresOf(w, a);
}

// Batch-major variant on the engine: every layer's perturbations for one batch at a time (allocate uses it).
interface Acc { loss: LossAccumulator; cmp: OutputComparison }

/** Runs the per-layer perturbations batch by batch and accumulates their scores. */
export class PerturbationRunner {
  engineMs = 0;
  private readonly acc = new Map<string, { w: Map<string, Acc>; a: Map<string, Acc> }>();

  constructor(private readonly program: Program, private readonly targets: readonly PerturbationTarget[],
    readonly outputName: string, readonly kind: OutputKind, private readonly signal?: AbortSignal) {
    for (const t of targets) this.acc.set(t.node.name, { w: new Map(), a: new Map() });
  }

  /** Every value name the runner needs from the FP32 pass (frontiers and the output). */
  neededValues(): string[] {
    return [...new Set([...this.targets.flatMap((t) => t.frontier), this.outputName])];
  }

  /** Process one batch: `values` holds the FP32 frontier values and the FP32 reference output. */
  async addBatch(values: Map<string, Tensor>): Promise<void> {
    const ref = values.get(this.outputName);
    if (!ref) throw new QuantLensError('calibration', `the FP32 pass did not return output '${this.outputName}'`);
    for (const t of this.targets) {
      const feeds: Record<string, Tensor> = {};
      for (const v of t.frontier) {
        const x = values.get(v);
        if (!x) throw new QuantLensError('calibration', `value '${v}' needed to perturb '${t.node.name}' was not captured`);
        feeds[v] = x;
      }
      const slot = this.acc.get(t.node.name)!;
      for (const [fmt, wq] of t.weights) {
        const out = await this.runEngine(feeds, { [t.weightName!]: { dtype: 'float32', dims: t.weightDims!, data: wq } });
        this.record(slot.w, fmt, ref, out);
      }
      const inName = t.node.inputs[0];
      const x = values.get(inName);
      if (!x || !(x.data instanceof Float32Array)) continue;
      for (const [fmt, fq] of t.activations) {
        const out = await this.runEngine({ ...feeds, [inName]: { ...x, data: fq(x.data, x.dims) } });
        this.record(slot.a, fmt, ref, out);
      }
    }
  }

  private async runEngine(feeds: Record<string, Tensor>, overrides?: Record<string, Tensor>): Promise<Tensor> {
    if (this.signal?.aborted) throw new QuantLensError('cancelled', 'analysis cancelled');
    const t0 = performance.now();
    const r = await run(this.program, feeds, { outputs: [this.outputName], ...(overrides ? { weightOverrides: overrides } : {}) });
    this.engineMs += performance.now() - t0;
    return r.outputs[this.outputName];
  }

  private record(into: Map<string, Acc>, fmt: string, ref: Tensor, out: Tensor): void {
    let a = into.get(fmt);
    if (!a) into.set(fmt, (a = { loss: new LossAccumulator(), cmp: new OutputComparison(this.outputName) }));
    a.loss.add(perSampleLoss(ref, out, this.kind));
    a.cmp.add(ref.data as Float32Array, out.data as Float32Array, ref.dims);
  }

  /** Scores by layer name. */
  results(): Map<string, PerturbationScores> {
    const res = new Map<string, PerturbationScores>();
    for (const [layer, { w, a }] of this.acc) {
      res.set(layer, scoresOf(w, new Map([...a].map(([fmt, x]) => [fmt, x.loss]))));
    }
    return res;
  }
}

/** The scores of one layer from its per-format weight accumulators (loss and output comparison) and activation losses. */
function scoresOf(w: ReadonlyMap<string, { loss: LossAccumulator; cmp: OutputComparison }>, a: ReadonlyMap<string, LossAccumulator>): PerturbationScores {
  const s: PerturbationScores = { weights: {}, activations: {}, top1Agreement: {}, sqnrDb: {} };
  for (const [fmt, x] of w) {
    s.weights[fmt] = x.loss.result();
    const c = x.cmp.result();
    s.top1Agreement[fmt] = c.top1Agreement;
    s.sqnrDb[fmt] = Number.isFinite(c.sqnrDb) ? c.sqnrDb : 400;
  }
  for (const [fmt, x] of a) s.activations[fmt] = x.result();
  return s;
}
