// SPDX-License-Identifier: Apache-2.0
/**
 * `quantlens eval <model> (--config FILE | --preset NAME) [--data DIR | --random N] [--labels FILE]
 * [--calib DIR] [--json FILE]`: FP32 in onnxruntime-node vs the quantized graph on the engine, same samples.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { QuantLensError } from '../../../engine/errors';
import { loadConfigForModel, resolveFromConfig } from '../../config/forModel';
import type { QuantConfig } from '../../config/types';
import { openCalibration, type CalibrationSource } from '../../data/index';
import { evaluate } from '../../eval/evaluate';
import { describePaired } from '../../eval/significance';
import { loadModel, type LoadedModel } from '../../onnx/load';
import { PRESET_NAMES, presetConfig } from '../../presets';
import type { EvalReport, Report } from '../../report';
import { newReport } from '../../reportModel';
import type { ShapeOverrides } from '../../shapes/inputs';
import { addJsonOption, addLimitOptions, addShapeOption, formatTable, loadOptionsFrom, terminalSafe, writeJsonOutput } from '../options';

export interface DataFlags {
  data?: string;
  random?: number;
  labels?: string;
  calib?: string;
  seed?: number;
  shape?: ShapeOverrides;
}

interface EvalFlags extends DataFlags {
  config?: string;
  preset?: string;
  json?: string;
  batch?: number;
  maxTensorMb?: number;
  maxMemoryMb?: number;
  failOnDrop?: number;
}

/** Adds --data/--random/--labels/--calib/--seed (shared by eval, suggest and export). */
export function addDataOptions(cmd: Command, what: string): Command {
  return cmd
    .option('--data <DIR>', `folder of .npy samples to ${what}`)
    .option('--random <N>', 'use N seeded random samples instead', intArg('--random'))
    .option('--labels <FILE>', 'class ids (.npy or JSON array), one per sample: gives top-1 accuracy')
    .option('--calib <DIR>', 'folder of .npy samples to calibrate activation ranges on (default: the config\'s calibration.data, else --data)')
    .option('--seed <N>', 'seed for --random', intArg('--seed'));
}

export function intArg(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new QuantLensError('usage', `${flag} expects a non-negative integer, got '${v}'`);
    return n;
  };
}

/** The config a command runs: --config FILE (checked against the model) or --preset NAME. */
export function configFromFlags(flags: { config?: string; preset?: string }, loaded: LoadedModel, modelFile: string): { config: QuantConfig; warnings: string[]; label: string } {
  if (!!flags.config === !!flags.preset) throw new QuantLensError('usage', `give exactly one of --config FILE or --preset NAME (${PRESET_NAMES.join(', ')})`);
  if (flags.preset) return { config: presetConfig(flags.preset, { path: modelFile, sha256: loaded.sha256 }), warnings: [], label: `preset ${flags.preset}` };
  const { config, warnings } = loadConfigForModel(flags.config as string, loaded);
  return { config, warnings, label: flags.config as string };
}

/** Evaluation samples and calibration samples from the flags and the config. */
export function sourcesFromFlags(flags: DataFlags, loaded: LoadedModel, config: QuantConfig, configFile?: string): { evalSource: CalibrationSource; calibSource: CalibrationSource } {
  const graph = loaded.model.graph;
  const shapes = { ...(config.calibration?.shapes ?? {}), ...(flags.shape ?? {}) };
  const common = { shapes, ...(flags.seed !== undefined ? { seed: flags.seed } : config.calibration?.seed !== undefined ? { seed: config.calibration.seed } : {}) };
  const evalSource = openCalibration(graph, {
    ...common,
    ...(flags.data !== undefined ? { data: flags.data } : {}),
    ...(flags.random !== undefined ? { random: flags.random } : {}),
    ...(flags.labels !== undefined ? { labels: flags.labels } : {}),
  });
  const calibDir = flags.calib ?? (config.calibration?.data && configFile ? resolveFromConfig(configFile, config.calibration.data) : config.calibration?.data);
  const calibSource = calibDir !== undefined
    ? openCalibration(graph, { ...common, data: calibDir, ...(config.calibration?.preprocessing ? { preprocessing: config.calibration.preprocessing } : {}) })
    : openCalibration(graph, { ...common, ...(flags.data !== undefined ? { data: flags.data } : {}), ...(flags.random !== undefined ? { random: flags.random } : {}), ...(flags.labels !== undefined ? { labels: flags.labels } : {}) });
  return { evalSource, calibSource };
}

const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
const num = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : !Number.isFinite(x) ? '∞' : Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(digits));

/** The human-readable eval summary and per-layer table. */
export function formatEval(e: EvalReport, label: string): string {
  const lines = [`eval      ${terminalSafe(label)}, ${e.samples ?? 0} samples`];
  if (e.accuracy) lines.push(`top-1     fp32 ${pct(e.accuracy.fp32)}   quantized ${pct(e.accuracy.quantized)}   delta ${(100 * e.accuracy.delta).toFixed(2)} points`);
  else lines.push(`top-1     n/a: ${terminalSafe(e.notApplicable?.accuracy ?? '')}`);
  const paired = e.accuracy?.paired;
  if (paired) lines.push(`paired    ${describePaired({ onlyA: paired.lost, onlyB: paired.gained, pValue: paired.pValue }, 'FP32', 'quantized')}`);
  for (const o of e.outputs ?? []) {
    const cls = o.top1Agreement === null ? `agreement/KL n/a: ${terminalSafe(o.notApplicable ?? '')}` : `agreement ${pct(o.top1Agreement)}   KL ${num(o.kl)}`;
    lines.push(`output    ${terminalSafe(o.name)}: SQNR ${num(o.sqnrDb, 1)} dB   cosine ${num(o.cosine, 5)}   ${cls}`);
  }
  lines.push(`parity    engine FP32 vs onnxruntime: max abs diff ${num(e.parity.maxAbsDiff)}, max rel diff ${num(e.parity.maxRelDiff)}`);
  if (e.latencyMs) lines.push(`latency   per sample on the engine: fp32 ${e.latencyMs.fp32.toFixed(3)} ms, quantized ${e.latencyMs.quantized.toFixed(3)} ms`);
  if (e.weights) lines.push(`weights   quantized layers: ${e.weights.avgBits.toFixed(2)} bits/weight incl. scales, ${(e.weights.sizeMB * 1e3).toFixed(1)} kB (FP32 ${(e.weights.fp32SizeMB * 1e3).toFixed(1)} kB)`);
  const rows = e.layers.map((l, i) => [String(i), terminalSafe(l.name), terminalSafe(l.op), l.kernel, num(l.sqnrDb, 1), l.latencyMs.toFixed(4)]);
  return `${lines.join('\n')}\n\n${formatTable(['#', 'layer', 'op', 'kernel', 'SQNR dB', 'ms/sample'], rows, [true, false, false, false, true, true])}\n`;
}

/** Runs eval and returns the Report (for the extension and tests). */
export async function evalModel(model: string, flags: EvalFlags): Promise<{ report: Report; label: string }> {
  const t0 = performance.now();
  const loaded = await loadModel(model, loadOptionsFrom(flags));
  const { config, warnings, label } = configFromFlags(flags, loaded, model);
  const { evalSource, calibSource } = sourcesFromFlags(flags, loaded, config, flags.config);
  const t1 = performance.now();
  const out = await evaluate({ loaded, modelBytes: readFileSync(model), config, evalSource, calibSource, ...(flags.batch ? { batchSize: flags.batch } : {}) });
  const report = newReport('eval', loaded);
  report.warnings.push(...warnings, ...evalSource.warnings, ...calibSource.warnings);
  report.eval = out.eval;
  report.layers = out.built.layers.map((l) => ({
    name: l.name, op: l.op, inputShapes: [], outputShapes: [], params: l.params, macs: 0, tags: [],
    format: { ...(l.weightFormat ? { weights: l.weightFormat } : {}), ...(l.activationFormat ? { activations: l.activationFormat } : {}) },
  }));
  report.timings = { load: t1 - t0, eval: performance.now() - t1 };
  return { report, label };
}

/** Registers `eval` on the CLI. */
export function register(program: Command): void {
  const cmd = program.command('eval').argument('<model>', 'an .onnx file')
    .description('accuracy delta: FP32 (onnxruntime) vs the quantized graph (engine) on the same samples')
    .option('--config <FILE>', 'a *.quant.json config')
    .option('--preset <NAME>', `a uniform preset: ${PRESET_NAMES.join(', ')}`)
    .option('--batch <N>', 'samples per engine run', intArg('--batch'))
    .option('--fail-on-drop <POINTS>', 'CI gate: exit with code 3 when top-1 accuracy (without labels: top-1 agreement with FP32) drops by more than POINTS percentage points', pointsArg);
  addDataOptions(cmd, 'evaluate on');
  addShapeOption(cmd);
  addJsonOption(cmd);
  addLimitOptions(cmd);
  cmd.action(async (model: string, flags: EvalFlags) => {
    const { report, label } = await evalModel(model, flags);
    for (const w of report.warnings) process.stderr.write(`warning: ${terminalSafe(w)}\n`);
    process.stdout.write(formatEval(report.eval as EvalReport, label));
    if (flags.json) writeJsonOutput(flags.json, report);
    if (flags.failOnDrop !== undefined) checkDropGate(report.eval as EvalReport, flags.failOnDrop, model);
  });
}

function pointsArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new QuantLensError('usage', `--fail-on-drop expects a non-negative number of percentage points, got '${v}'`);
  return n;
}

/** Throws the 'gate' error (exit code 3) when the measured top-1 drop exceeds `limit` points. */
export function checkDropGate(e: EvalReport, limit: number, model: string): void {
  const drop = e.accuracy ? -100 * e.accuracy.delta : e.top1Agreement !== null ? 100 * (1 - e.top1Agreement) : undefined;
  const metric = e.accuracy ? 'top-1 accuracy' : 'top-1 agreement with FP32';
  if (drop === undefined) {
    throw new QuantLensError('usage', `${model}: --fail-on-drop needs a top-1 metric, but ${e.notApplicable?.accuracy ?? 'the outputs are not class scores'}`, model);
  }
  if (drop > limit) {
    throw new QuantLensError('gate', `${model}: ${metric} dropped ${drop.toFixed(2)} points, over the --fail-on-drop limit of ${limit}`, model);
  }
  process.stderr.write(`gate      passed: ${metric} dropped ${drop.toFixed(2)} points (limit ${limit})\n`);
}
