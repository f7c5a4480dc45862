// SPDX-License-Identifier: Apache-2.0
/**
 * `suggest`: per-layer costs and sensitivities → the allocation ILP at the budget → a Pareto sweep of the same
 * budget kind → every frontier point (and the budget optimum) verified by running the quantized graph on the
 * engine, so the result shows predicted loss and measured delta side by side. `maxAccuracyDrop` picks the
 * cheapest verified point whose measured drop stays within it.
 */
import { compile } from '../../engine/index';
import { QuantLensError } from '../../engine/errors';
import type { ActivationAccumulator } from '../activations/accumulator';
import { QUANT_CONFIG_VERSION, parseGranularity, type BudgetKind, type QuantConfig, type TensorQuantSpec } from '../config/types';
import type { CalibrationSource } from '../data/source';
import { calibrateActivations, evaluate, referenceRun, type ReferenceRun } from '../eval/evaluate';
import { collectLayerGrams } from '../eval/layerGram';
import { layerGeometry } from '../sensitivity/layerInputs';
import type { LoadedModel } from '../onnx/load';
import type { EvalReport } from '../report';
import { getFormat } from '../quant/formats';
import { applyConstraints, evaluateAssignment, solveAllocation, type AllocChoice, type Allocation, type AllocProblem, type Budgets } from './ilp';
import { allocatableLayers, buildCostTable, type Candidate, type SensitivityKind } from './layerCosts';
import { costOf, paretoSweep, withBudget } from './pareto';

export interface SuggestRequest {
  loaded: LoadedModel;
  modelBytes: Uint8Array;
  /** Path written into the config (relative to the config's folder). */
  modelPath: string;
  budget: { kind: BudgetKind; value: number };
  /** Candidate weight formats. */
  formats: string[];
  /** Activation spec for every quantized layer's input (null: weight-only). */
  activation: TensorQuantSpec | null;
  sensitivity: SensitivityKind;
  pins?: Record<string, string>;
  opFormats?: Record<string, string[]>;
  /** Largest acceptable measured drop: accuracy (fraction) with labels, else 1 − top-1 agreement. */
  maxAccuracyDrop?: number;
  /** Samples for calibration and sensitivity. */
  calibSource: CalibrationSource;
  /** Samples the chosen points are verified on (labels give accuracy). */
  verifySource: CalibrationSource;
  paretoSteps?: number;
  toolVersion: string;
  onProgress?: (stage: string) => void;
  /** Cancels between engine runs (QuantLensError 'cancelled'). */
  signal?: AbortSignal;
}

/** One verified point: predicted (ILP) against measured (engine) figures. */
export interface VerifiedPoint {
  budget: number;
  cost: number;
  predictedLoss: number;
  avgWeightBits: number;
  sizeMB: number;
  bops: number;
  latencyMs?: number;
  measured: { accuracyDelta?: number; top1Agreement: number | null; kl: number | null; sqnrDb: number };
  choices: Record<string, string>;
  /** What the point is when it is not a frontier point: 'ILP optimum', 'uniform int4', … */
  label?: string;
}

export interface SuggestResult {
  config: QuantConfig;
  chosen: VerifiedPoint;
  frontier: VerifiedPoint[];
  /** Uniform single-format allocations within the budget, verified the same way (what a user would otherwise pick). */
  baselines: VerifiedPoint[];
  /** How the written point was chosen (the ILP optimum, or a verified point that measured better). */
  selection: string;
  eval: EvalReport;
  warnings: string[];
}

/**
 * Default candidates: the INT ladder per channel, plus per-tensor INT6/5/4 — on small layers a per-channel
 * FP32 scale costs up to a bit per weight, and the cheaper variants let the budget go where it matters.
 */
export const DEFAULT_SUGGEST_FORMATS = ['int8', 'int6', 'int5', 'int4', 'int3', 'int2', 'int6:tensor', 'int5:tensor', 'int4:tensor'];

/**
 * The spec a candidate is quantized with. A candidate is `FMT` or `FMT:GRANULARITY` (`int4:tensor`,
 * `int4:group:64`), optionally followed by `+gptq` (GPTQ rounding on the same grid): the format's own granularity
 * (per channel for INT) unless given; MSE clipping for INT at ≤ 4 bits, where clipping pays.
 */
export function candidateSpec(candidate: string): TensorQuantSpec {
  const [base, rounding, ...extra] = candidate.split('+');
  if (extra.length > 0 || (rounding !== undefined && rounding !== 'gptq' && rounding !== 'nearest')) {
    throw new QuantLensError('usage', `candidate '${candidate}': the rounding after '+' is gptq or nearest`);
  }
  const [format, ...rest] = base.split(':');
  const f = getFormat(format);
  const spec: TensorQuantSpec = { format };
  const gran = rest.join(':');
  if (gran) {
    if (!parseGranularity(gran)) throw new QuantLensError('usage', `candidate '${candidate}': granularity '${gran}' is not tensor, channel or group:N`);
    spec.granularity = gran;
  } else {
    // always explicit: an override merges over the defaults and must not inherit their granularity
    spec.granularity = f.defaultGranularity === 'group' ? `group:${f.blockSize ?? 32}` : f.defaultGranularity;
  }
  spec.calibration = f.family === 'int' && f.bits <= 4 ? 'mse' : 'minmax';
  if (rounding === 'gptq') spec.rounding = 'gptq';
  return spec;
}

export async function suggest(req: SuggestRequest): Promise<SuggestResult> {
  const { loaded, modelBytes } = req;
  const progress = req.onProgress ?? (() => undefined);
  const warnings: string[] = [];
  const program = compile(loaded.model);
  // weights holding NaN/Inf have no meaningful quantization: keep them FP32, pinned, and say so (never silently)
  const all = allocatableLayers(loaded, program);
  const nonFinite = nonFiniteWeights(all);
  for (const [name, what] of nonFinite) warnings.push(`layer '${name}': its weights hold ${what}; left unquantized (FP32) and pinned, no format suggested`);
  const layers = all.filter((l) => !nonFinite.has(l.node.name));
  if (layers.length === 0) throw new QuantLensError('usage', `${loaded.file}: no quantizable layers (Conv, Gemm, MatMul with constant weights)`, loaded.file);
  const candidates: Candidate[] = req.formats.map((f) => ({ id: f, spec: candidateSpec(f) }));

  progress('calibration');
  const stats: Map<string, ActivationAccumulator> = await calibrateActivations(loaded, modelBytes, [...new Set(layers.map((l) => l.node.inputs[0]))], req.calibSource);
  // GPTQ candidates need each layer's input statistics; layers GPTQ cannot round (no 2-D geometry) keep the others
  const grams = candidates.some((c) => c.spec.rounding === 'gptq')
    ? await collectLayerGrams(program, layers.filter((l) => layerGeometry(l.node, l.tensor) !== null), req.calibSource, req.signal ? { signal: req.signal } : {})
    : undefined;
  progress('sensitivity and latency');
  const table = await buildCostTable({
    loaded, modelBytes, program, layers, candidates, activation: req.activation, activationStats: stats, source: req.calibSource, ...(grams ? { grams } : {}),
    sensitivity: req.sensitivity, measureLatency: req.budget.kind === 'latency-ms', ...(req.signal ? { signal: req.signal } : {}),
  });
  const problem = applyConstraints(table.problem, { ...(req.pins ? { pins: req.pins } : {}), ...(req.opFormats ? { opFormats: req.opFormats } : {}) });

  progress('allocation');
  const budgets: Budgets = withBudget(req.budget.kind, req.budget.value);
  const atBudget = await solveAllocation(problem, budgets);
  const sweep = await paretoSweep(problem, req.budget.kind, req.paretoSteps ?? 8);

  progress('verification');
  const reference = await referenceRun(loaded, modelBytes, req.verifySource, program, [], 32);
  type Verified = VerifiedPoint & { report: EvalReport; config: QuantConfig };
  const verify = async (a: Allocation, budget: number): Promise<Verified> => {
    const config = configFor(req, a, nonFinite.keys());
    const { eval: e } = await evaluate({
      loaded, modelBytes, config, evalSource: req.verifySource, calibSource: req.calibSource, perLayer: false,
      activationStats: stats, reference: reference as ReferenceRun, ...(grams ? { layerGrams: grams } : {}), ...(req.signal ? { signal: req.signal } : {}),
    });
    return {
      budget, cost: costOf(req.budget.kind, a), predictedLoss: a.loss, avgWeightBits: a.avgWeightBits, sizeMB: a.sizeMB, bops: a.bops,
      ...(a.latencyMs !== undefined ? { latencyMs: a.latencyMs } : {}),
      measured: { ...(e.accuracy ? { accuracyDelta: e.accuracy.delta } : {}), top1Agreement: e.top1Agreement, kl: e.kl, sqnrDb: e.sqnrDb },
      choices: Object.fromEntries(Object.entries(a.choices).map(([k, c]) => [k, c.id])),
      report: e, config,
    };
  };
  const frontier = [];
  for (const p of sweep) frontier.push(await verify(p.allocation, p.budget));
  const optimum: Verified = { ...await verify(atBudget, req.budget.value), label: 'ILP optimum' };
  // the predicted loss sums each layer's perturbation measured alone, so its order need not be the measured one:
  // the uniform allocations that fit the budget are verified too, and the best measured point is written
  const fits = (v: VerifiedPoint): boolean => v.cost <= req.budget.value * (1 + 1e-9);
  const baselines: Verified[] = [];
  for (const [id, u] of uniformAllocations(problem)) {
    if (costOf(req.budget.kind, u) <= req.budget.value * (1 + 1e-9)) baselines.push({ ...await verify(u, req.budget.value), label: `uniform ${id}` });
  }
  const inBudget = [optimum, ...frontier.filter(fits), ...baselines];
  let chosen: Verified = optimum;
  let selection = 'the ILP optimum at the budget, which also measured best on the verification samples';
  if (req.maxAccuracyDrop !== undefined) {
    const drop = (v: VerifiedPoint): number => (v.measured.accuracyDelta !== undefined ? -v.measured.accuracyDelta : 1 - (v.measured.top1Agreement ?? 0));
    const ok = inBudget.filter((v) => drop(v) <= req.maxAccuracyDrop!).sort((a, b) => a.cost - b.cost);
    if (ok.length > 0) { chosen = ok[0]; selection = `the cheapest verified point within the budget whose measured drop is ≤ ${req.maxAccuracyDrop}`; }
    else warnings.push(`no verified point within the budget keeps the measured drop ≤ ${req.maxAccuracyDrop}; the budget optimum is returned (drop ${drop(chosen).toFixed(4)})`);
  } else {
    const best = inBudget.reduce((a, b) => (measuredBetter(b, a) ? b : a));
    if (best !== optimum) {
      chosen = best;
      selection = `${best.label ?? `the frontier point at ${best.budget.toFixed(3)}`} measured better than the ILP optimum on the verification samples (${describeMeasured(best)} vs ${describeMeasured(optimum)})`;
    }
  }
  chosen.config.provenance = {
    method: 'ilp', budget: req.budget, sensitivity: req.sensitivity,
    predicted: { loss: chosen.predictedLoss, avgWeightBits: chosen.avgWeightBits, sizeMB: chosen.sizeMB, bops: chosen.bops, ...(chosen.latencyMs !== undefined ? { latencyMs: chosen.latencyMs } : {}) },
    ...(chosen.report.accuracy ? { measured: { metric: 'top1', fp32: chosen.report.accuracy.fp32, quantized: chosen.report.accuracy.quantized, delta: chosen.report.accuracy.delta, samples: chosen.report.samples ?? 0 } }
      : { measured: { metric: 'top1Agreement', fp32: 1, quantized: chosen.report.top1Agreement ?? 0, delta: (chosen.report.top1Agreement ?? 0) - 1, samples: chosen.report.samples ?? 0 } }),
    tool: { name: 'quantlens', version: req.toolVersion }, createdAt: new Date().toISOString(),
  };
  const strip = ({ report: _r, config: _c, ...v }: Verified): VerifiedPoint => v;
  return { config: chosen.config, chosen: strip(chosen), frontier: frontier.map(strip), baselines: baselines.map(strip), selection, eval: chosen.report, warnings };
}

/** Every single-format allocation the constraints allow (pinned layers keep their pin), by candidate id. */
function uniformAllocations(problem: AllocProblem): [string, Allocation][] {
  const ids = [...new Set(problem.layers.flatMap((l) => l.choices.map((c) => c.id)))];
  const out: [string, Allocation][] = [];
  for (const id of ids) {
    const picks = problem.layers.map((l) => (l.choices.length === 1 ? l.choices[0] : l.choices.find((c) => c.id === id)));
    if (picks.some((p) => p === undefined)) continue;
    const chosen = picks as AllocChoice[];
    out.push([id, { choices: Object.fromEntries(problem.layers.map((l, i) => [l.name, chosen[i]])), ...evaluateAssignment(problem, chosen) }]);
  }
  return out;
}

/** Measured order of two verified points: accuracy with labels, then KL to FP32, then output SQNR. */
function measuredBetter(b: VerifiedPoint, a: VerifiedPoint): boolean {
  const [ma, mb] = [a.measured, b.measured];
  if (ma.accuracyDelta !== undefined && mb.accuracyDelta !== undefined && ma.accuracyDelta !== mb.accuracyDelta) return mb.accuracyDelta > ma.accuracyDelta;
  if (ma.kl !== null && mb.kl !== null && ma.kl !== mb.kl) return mb.kl < ma.kl;
  return mb.sqnrDb > ma.sqnrDb;
}

function describeMeasured(v: VerifiedPoint): string {
  const m = v.measured;
  const parts = [...(m.accuracyDelta !== undefined ? [`Δtop-1 ${(100 * m.accuracyDelta).toFixed(2)} pt`] : []), ...(m.kl !== null ? [`KL ${m.kl.toExponential(2)}`] : []), `SQNR ${m.sqnrDb.toFixed(1)} dB`];
  return parts.join(', ');
}

/** The config of an allocation: the most common weight spec as the default, the rest as overrides. */
function configFor(req: SuggestRequest, a: Allocation, frozen: Iterable<string> = []): QuantConfig {
  const counts = new Map<string, number>();
  for (const c of Object.values(a.choices)) counts.set(c.id, (counts.get(c.id) ?? 0) + 1);
  const common = [...counts].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0]?.[0] ?? req.formats[0];
  const layers: QuantConfig['layers'] = {};
  for (const [name, c] of Object.entries(a.choices)) {
    const pinned = req.pins?.[name] !== undefined;
    if (c.id !== common || pinned) layers[name] = { weights: overrideOf(c.id, common), ...(pinned ? { pinned: true } : {}) };
  }
  for (const name of frozen) layers[name] = { weights: null, pinned: true };
  return {
    version: QUANT_CONFIG_VERSION,
    model: { path: req.modelPath, sha256: req.loaded.sha256 },
    defaults: { weights: candidateSpec(common), activations: req.activation },
    layers,
  };
}

/** A layer's weight override: fields merge over the default, so a GPTQ default must not leak its rounding. */
function overrideOf(id: string, common: string): TensorQuantSpec {
  const spec = candidateSpec(id);
  if (candidateSpec(common).rounding !== undefined && spec.rounding === undefined) spec.rounding = 'nearest';
  return spec;
}

/** Layers whose FP32 weights hold NaN or ±Inf, with a count for the warning. */
function nonFiniteWeights(layers: ReturnType<typeof allocatableLayers>): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of layers) {
    const d = l.tensor.data;
    if (!(d instanceof Float32Array || d instanceof Float64Array)) continue;
    let nan = 0, inf = 0;
    for (const v of d) { if (v !== v) nan++; else if (v === Infinity || v === -Infinity) inf++; }
    if (nan + inf > 0) out.set(l.node.name, `${nan} NaN and ${inf} Inf value(s)`);
  }
  return out;
}
