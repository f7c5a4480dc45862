// SPDX-License-Identifier: Apache-2.0
/**
 * `quantlens analyze <model> [--data DIR | --random N] [--shape …] [--formats …] [--json FILE] [--html FILE]`:
 * statistics, tags and the three sensitivity methods per layer, run in the analysis worker (Ctrl-C cancels
 * it and nothing is written). Prints a per-layer table and the timing breakdown.
 */
import { Option, type Command } from 'commander';
import { QuantLensError } from '../../../engine/errors';
import type { AnalyzeOptions } from '../../analyze';
import { runJob } from '../../jobs/runJob';
import type { Report } from '../../report';
import type { SensitivityMethod } from '../../sensitivity/analyzeLayers';
import type { ShapeOverrides } from '../../shapes/inputs';
import { addJsonOption, addLimitOptions, addShapeOption, formatTable, loadOptionsFrom, stat, terminalSafe } from '../options';

interface AnalyzeFlags {
  data?: string; random?: number; seed?: number; labels?: string; shape?: ShapeOverrides;
  formats?: string; methods?: string; batchSize?: number; perturbationSamples?: number; hessianSamples?: number; probes?: number;
  backend?: 'engine' | 'onnxruntime';
  targetError?: number; rows?: number; json?: string; html?: string;
  size?: string; mean?: string; std?: string; channelOrder?: 'rgb' | 'bgr'; layout?: 'nchw' | 'nhwc';
  maxTensorMb?: number; maxMemoryMb?: number; quiet?: boolean;
}

const METHODS: SensitivityMethod[] = ['perturbation', 'hessianTrace', 'layerHessian'];

const int = (flag: string, min = 1) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new QuantLensError('usage', `${flag} expects an integer ≥ ${min}, got '${v}'`);
  return n;
};
const positive = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new QuantLensError('usage', `${flag} expects a positive number, got '${v}'`);
  return n;
};
const numbers = (flag: string, s: string) => s.split(',').map((x) => {
  const n = Number(x);
  if (!Number.isFinite(n)) throw new QuantLensError('usage', `${flag} expects comma-separated numbers, got '${s}'`);
  return n;
});

/** AnalyzeOptions from the parsed flags. */
export function analyzeOptionsFrom(f: AnalyzeFlags): AnalyzeOptions {
  if (f.data !== undefined && f.random !== undefined) throw new QuantLensError('usage', 'give either --data DIR or --random N, not both');
  const methods = f.methods ? f.methods.split(',').map((m) => m.trim()) : undefined;
  for (const m of methods ?? []) {
    if (!METHODS.includes(m as SensitivityMethod)) throw new QuantLensError('usage', `unknown method '${m}'; valid: ${METHODS.join(', ')}`);
  }
  const prep: NonNullable<AnalyzeOptions['preprocessing']> = {};
  if (f.size) {
    const s = f.size.split('x').map(Number);
    if (s.length !== 2 || s.some((d) => !Number.isInteger(d) || d < 1)) throw new QuantLensError('usage', `--size expects HxW, got '${f.size}'`);
    prep.size = [s[0], s[1]];
  }
  if (f.mean) prep.mean = numbers('--mean', f.mean);
  if (f.std) prep.std = numbers('--std', f.std);
  if (f.channelOrder) prep.channelOrder = f.channelOrder;
  if (f.layout) prep.layout = f.layout;
  return {
    ...(f.data !== undefined ? { data: f.data } : {}),
    ...(f.random !== undefined ? { random: f.random } : {}),
    ...(f.seed !== undefined ? { seed: f.seed } : {}),
    ...(f.labels !== undefined ? { labels: f.labels } : {}),
    ...(f.shape ? { shapes: f.shape } : {}),
    ...(Object.keys(prep).length ? { preprocessing: prep } : {}),
    ...(f.formats ? { formats: f.formats.split(',').map((x) => x.trim()).filter(Boolean) } : {}),
    ...(methods ? { methods: methods as SensitivityMethod[] } : {}),
    ...(f.batchSize ? { batchSize: f.batchSize } : {}),
    ...(f.perturbationSamples ? { perturbationSamples: f.perturbationSamples } : {}),
    ...(f.hessianSamples ? { hessianSamples: f.hessianSamples } : {}),
    ...(f.backend ? { backend: f.backend } : {}),
    ...(f.probes ? { maxProbes: f.probes } : {}),
    ...(f.targetError ? { targetRelError: f.targetError } : {}),
    ...(f.rows ? { layerHessianRows: f.rows } : {}),
    load: loadOptionsFrom(f),
  };
}

const sv = (s?: { value: number; stdError?: number }) => (s ? `${stat(s.value)}${s.stdError ? `±${stat(s.stdError)}` : ''}` : '');

/** The human-readable per-layer table + timings. */
export function formatAnalyze(r: Report): string {
  const a = r.analysis;
  const formats = a?.formats ?? [];
  const header = ['layer', 'op', 'tags', ...formats.flatMap((f) => [`pert@${f}`, `Ω@${f}`, `XᵀX@${f}`])];
  const numeric = [false, false, false, ...formats.flatMap(() => [true, true, true])];
  const rows = r.layers.filter((l) => l.sensitivity || l.activationStats).map((l) => [
    terminalSafe(l.name), terminalSafe(l.op), l.tags.map((t) => t.id).join(','),
    ...formats.flatMap((f) => [sv(l.sensitivity?.perturbation?.[f]), sv(l.sensitivity?.hessianTrace?.[f]), sv(l.sensitivity?.layerHessian?.[f])]),
  ]);
  const lines = [
    `model        ${terminalSafe(r.model.path)}`,
    `calibration  ${terminalSafe(a?.calibration ?? '')}`,
    `output       ${terminalSafe(a?.output ?? '')} (${a?.outputKind}; perturbation = ${a?.outputKind === 'other' ? 'MSE' : 'KL'}; forward passes on ${a?.backend ?? '?'})`,
    ...Object.entries(a?.notApplicable ?? {}).map(([k, v]) => `n/a          ${k}: ${terminalSafe(v)}`),
    '',
    formatTable(header, rows, numeric),
    '',
    `agreement    ${Object.entries(r.agreement ?? {}).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('   ') || '(fewer than 3 comparable layers)'}`,
    `timings      ${Object.entries(r.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}s`).join('  ')}`,
  ];
  if (a?.timeShares) {
    const t = a.timeShares;
    lines.push(`time share   onnxruntime ${(t.onnxruntimeMs / 1000).toFixed(2)}s  engine ${(t.engineMs / 1000).toFixed(2)}s  quantlens ${(t.oursMs / 1000).toFixed(2)}s`);
  }
  for (const w of r.warnings) lines.push(`warning      ${terminalSafe(w)}`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  const cmd = program.command('analyze <model>')
    .description('per-layer statistics, distribution tags and sensitivity (perturbation, Hessian trace, layer Hessian)')
    .option('--data <DIR>', 'calibration folder of .npy files or images (one sub-folder per input for multi-input models)')
    .addOption(new Option('--random <N>', 'use N seeded random samples').argParser(int('--random')))
    .addOption(new Option('--seed <N>', 'seed for random data and probes').argParser(int('--seed', 0)))
    .option('--labels <FILE>', 'class ids (.npy or JSON array), one per sample')
    .option('--formats <LIST>', 'candidate formats, comma-separated (default int8,int4)')
    .option('--methods <LIST>', `sensitivity methods (default all: ${METHODS.join(',')})`)
    .addOption(new Option('--batch-size <N>', 'calibration batch size (default 8)').argParser(int('--batch-size')))
    .addOption(new Option('--perturbation-samples <N>', 'samples used for perturbation (default all)').argParser(int('--perturbation-samples')))
    .addOption(new Option('--hessian-samples <N>', 'samples used by the Hessian trace (default 8)').argParser(int('--hessian-samples')))
    .addOption(new Option('--backend <NAME>', 'where perturbation/Hessian forward passes run (default engine)').choices(['engine', 'onnxruntime']))
    .addOption(new Option('--probes <N>', 'max Hutchinson probes per layer (default 16)').argParser(int('--probes')))
    .addOption(new Option('--target-error <X>', 'stop probing at this relative standard error (default 0.1)').argParser(positive('--target-error')))
    .addOption(new Option('--rows <N>', 'input rows kept per layer for the layer Hessian (default 256)').argParser(int('--rows')))
    .option('--size <HxW>', 'image preprocessing: resize to H×W')
    .option('--mean <LIST>', 'image preprocessing: per-channel mean (of x/255)')
    .option('--std <LIST>', 'image preprocessing: per-channel std')
    .addOption(new Option('--channel-order <ORDER>', 'image channel order').choices(['rgb', 'bgr']))
    .addOption(new Option('--layout <LAYOUT>', 'image tensor layout').choices(['nchw', 'nhwc']))
    .option('--html <FILE>', 'write a self-contained HTML report')
    .option('--quiet', 'no progress on stderr');
  addShapeOption(cmd);
  addJsonOption(cmd);
  addLimitOptions(cmd);
  cmd.action(async (model: string, flags: AnalyzeFlags) => {
    const options = analyzeOptionsFrom(flags);
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      const showProgress = !flags.quiet && process.stderr.isTTY;
      const { report } = await runJob({
        kind: 'analyze', model, options,
        outputs: { ...(flags.json ? { json: flags.json } : {}), ...(flags.html ? { html: flags.html } : {}) },
      }, {
        signal: abort.signal,
        ...(showProgress ? { onProgress: (s: string, d: number, t: number) => process.stderr.write(`\r${s} ${d}/${t}   `) } : {}),
      });
      if (showProgress) process.stderr.write('\r\x1b[K');
      process.stdout.write(formatAnalyze(report));
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  });
}
