// SPDX-License-Identifier: Apache-2.0
/**
 * `quantlens suggest <model> --budget avg-bits=4.5|size-mb=X|bops=X|latency-ms=X [--formats …]
 * [--sensitivity perturbation|hessian] [--max-accuracy-drop X] [--pin LAYER=FMT …] [--op-formats OP=F1,F2 …]
 * --out model.quant.json`: mixed-precision allocation by ILP, a verified Pareto frontier, an atomic config write.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { QuantLensError } from '../../../engine/errors';
import { DEFAULT_SUGGEST_FORMATS, candidateSpec, suggest, type SuggestResult, type VerifiedPoint } from '../../allocate/suggest';
import { modelPathFor, saveConfig } from '../../config/forModel';
import type { BudgetKind, TensorQuantSpec } from '../../config/types';
import { openCalibration } from '../../data/index';
import { loadModel } from '../../onnx/load';
import { getFormat } from '../../quant/formats';
import { newReport } from '../../reportModel';
import type { ShapeOverrides } from '../../shapes/inputs';
import { VERSION } from '../main';
import { addJsonOption, addLimitOptions, addShapeOption, formatTable, loadOptionsFrom, terminalSafe, writeJsonOutput } from '../options';
import { intArg } from './eval';

interface SuggestFlags {
  budget: string;
  formats?: string;
  activations?: string;
  sensitivity?: string;
  maxAccuracyDrop?: number;
  pin?: Record<string, string>;
  opFormats?: Record<string, string[]>;
  out: string;
  data?: string;
  random?: number;
  seed?: number;
  verifyData?: string;
  labels?: string;
  steps?: number;
  shape?: ShapeOverrides;
  json?: string;
  maxTensorMb?: number;
  maxMemoryMb?: number;
}

const BUDGET_KINDS: BudgetKind[] = ['avg-bits', 'size-mb', 'bops', 'latency-ms'];

/** `avg-bits=4.5` → { kind, value }. */
export function parseBudget(s: string): { kind: BudgetKind; value: number } {
  const m = /^([a-z-]+)=([0-9.eE+-]+)$/.exec(s);
  const kind = m?.[1] as BudgetKind | undefined;
  const value = Number(m?.[2]);
  if (!m || !kind || !BUDGET_KINDS.includes(kind) || !Number.isFinite(value) || value <= 0) {
    throw new QuantLensError('usage', `--budget '${s}': expected KIND=VALUE with KIND one of ${BUDGET_KINDS.join(', ')} and a positive VALUE`);
  }
  return { kind, value };
}

const collectPair = (flag: string) => (v: string, prev: Record<string, string> = {}): Record<string, string> => {
  const i = v.lastIndexOf('=');
  if (i <= 0 || i === v.length - 1) throw new QuantLensError('usage', `${flag} '${v}': expected NAME=VALUE`);
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
};

const collectOpFormats = (v: string, prev: Record<string, string[]> = {}): Record<string, string[]> => {
  const [op, list] = v.split('=');
  if (!op || !list) throw new QuantLensError('usage', `--op-formats '${v}': expected OP=FMT[,FMT…], e.g. Gemm=int8`);
  return { ...prev, [op]: list.split(',') };
};

const num = (x: number | null | undefined, d = 4): string => (x === null || x === undefined ? 'n/a' : Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(d));

/** The frontier table: predicted cost and loss next to the measured deltas. */
export function formatSuggest(r: SuggestResult, kind: BudgetKind): string {
  const row = (p: VerifiedPoint, mark: string): string[] => [
    mark, kind === 'bops' ? p.cost.toExponential(3) : num(p.cost, 3), p.avgWeightBits.toFixed(2), (p.sizeMB * 1e3).toFixed(2), num(p.predictedLoss),
    p.measured.accuracyDelta !== undefined ? (100 * p.measured.accuracyDelta).toFixed(2) : 'n/a',
    p.measured.top1Agreement === null ? 'n/a' : (100 * p.measured.top1Agreement).toFixed(2), num(p.measured.kl),
  ];
  const header = ['', kind, 'avg bits', 'kB', 'predicted loss', 'Δtop-1 pt', 'agree %', 'KL'];
  const rows = [...r.frontier.map((p) => row(p, '')), ...r.baselines.map((p) => row(p, 'u')), row(r.chosen, '→')];
  const layerRows = Object.entries(r.chosen.choices).map(([n, f]) => [terminalSafe(n), f]);
  return `Pareto frontier (each point run on the engine; u = uniform single-format allocation within the budget; → = written config)\n`
    + `${formatTable(header, rows, [false, true, true, true, true, true, true, true])}\n`
    + `written: ${terminalSafe(r.chosen.label ?? 'frontier point')}, ${terminalSafe(r.selection)}\n\n`
    + `${formatTable(['layer', 'weights'], layerRows, [false, false])}\n`;
}

/** Registers `suggest` on the CLI. */
export function register(program: Command): void {
  const cmd = program.command('suggest').argument('<model>', 'an .onnx file')
    .description('mixed-precision allocation under a budget (ILP over per-layer formats), verified on the engine')
    .requiredOption('--budget <KIND=VALUE>', `budget: ${BUDGET_KINDS.join(' | ')} (avg-bits counts scales and metadata)`)
    .requiredOption('--out <FILE>', 'write the suggested *.quant.json here (atomically)')
    .option('--formats <LIST>', `candidate weight formats, FMT or FMT:GRANULARITY, each optionally +gptq for GPTQ rounding (default ${DEFAULT_SUGGEST_FORMATS.join(',')})`)
    .option('--activations <FMT>', 'activation format for every quantized layer, or "none" for weight-only (default uint8)')
    .option('--sensitivity <METHOD>', 'perturbation (default) or hessian')
    .option('--max-accuracy-drop <X>', 'pick the cheapest verified point whose measured drop (fraction) is at most X', (v: string) => Number(v))
    .option('--pin <LAYER=FMT>', 'keep a layer at a format (repeatable)', collectPair('--pin'))
    .option('--op-formats <OP=FMT,…>', 'allowed formats for an op type (repeatable)', collectOpFormats)
    .option('--data <DIR>', 'samples for calibration and sensitivity (.npy folder)')
    .option('--random <N>', 'use N seeded random samples instead', intArg('--random'))
    .option('--seed <N>', 'seed for --random', intArg('--seed'))
    .option('--verify-data <DIR>', 'samples to verify the frontier on (default: --data)')
    .option('--labels <FILE>', 'labels of --verify-data: verification then reports accuracy deltas')
    .option('--steps <N>', 'Pareto sweep points (default 8)', intArg('--steps'));
  addShapeOption(cmd);
  addJsonOption(cmd);
  addLimitOptions(cmd);
  cmd.action(async (model: string, flags: SuggestFlags) => {
    const budget = parseBudget(flags.budget);
    const sensitivity = flags.sensitivity ?? 'perturbation';
    if (sensitivity !== 'perturbation' && sensitivity !== 'hessian') throw new QuantLensError('usage', `--sensitivity '${sensitivity}': expected perturbation or hessian`);
    const formats = flags.formats ? flags.formats.split(',').map((f) => f.trim()).filter(Boolean) : DEFAULT_SUGGEST_FORMATS;
    for (const f of formats) candidateSpec(f);
    for (const f of [...Object.values(flags.pin ?? {}), ...Object.values(flags.opFormats ?? {}).flat()]) getFormat(f.split(':')[0]);
    const activation: TensorQuantSpec | null = flags.activations === 'none' ? null
      : { format: flags.activations ?? 'uint8', granularity: 'tensor', calibration: 'minmax', ...(flags.activations ? {} : { symmetric: false }) };
    if (activation) getFormat(activation.format);
    if (flags.maxAccuracyDrop !== undefined && !(flags.maxAccuracyDrop >= 0)) throw new QuantLensError('usage', '--max-accuracy-drop expects a fraction ≥ 0, e.g. 0.01');

    const t0 = performance.now();
    const loaded = await loadModel(model, loadOptionsFrom(flags));
    const graph = loaded.model.graph;
    const shapes = flags.shape ?? {};
    const seed = flags.seed !== undefined ? { seed: flags.seed } : {};
    const calib = () => openCalibration(graph, { shapes, ...seed, ...(flags.data !== undefined ? { data: flags.data } : {}), ...(flags.random !== undefined ? { random: flags.random } : {}) });
    const verifySource = flags.verifyData !== undefined || flags.labels !== undefined
      ? openCalibration(graph, { shapes, ...seed, ...(flags.verifyData !== undefined ? { data: flags.verifyData } : flags.data !== undefined ? { data: flags.data } : {}), ...(flags.labels ? { labels: flags.labels } : {}) })
      : calib();
    const result = await suggest({
      loaded, modelBytes: readFileSync(model), modelPath: modelPathFor(flags.out, model), budget, formats, activation, sensitivity,
      ...(flags.pin ? { pins: flags.pin } : {}), ...(flags.opFormats ? { opFormats: flags.opFormats } : {}),
      ...(flags.maxAccuracyDrop !== undefined ? { maxAccuracyDrop: flags.maxAccuracyDrop } : {}),
      calibSource: calib(), verifySource, ...(flags.steps ? { paretoSteps: flags.steps } : {}), toolVersion: VERSION,
      onProgress: (stage) => process.stderr.write(`… ${stage}\n`),
    });
    if (flags.data !== undefined) result.config.calibration = { data: modelPathFor(flags.out, flags.data), ...(flags.seed !== undefined ? { seed: flags.seed } : {}) };
    saveConfig(flags.out, result.config);
    for (const w of result.warnings) process.stderr.write(`warning: ${terminalSafe(w)}\n`);
    process.stdout.write(formatSuggest(result, budget.kind));
    process.stdout.write(`wrote ${flags.out}\n`);
    if (flags.json) {
      const report = newReport('suggest', loaded);
      report.eval = result.eval;
      report.allocation = { budget, sensitivity, chosen: result.chosen, frontier: result.frontier, baselines: result.baselines, selection: result.selection };
      report.warnings.push(...result.warnings);
      report.timings = { total: performance.now() - t0 };
      writeJsonOutput(flags.json, report);
    }
  });
}
