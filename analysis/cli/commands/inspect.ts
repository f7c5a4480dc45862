// SPDX-License-Identifier: Apache-2.0
/**
 * `quantlens inspect <model> [--shape …] [--json FILE]`: loads the model, infers shapes, and prints the model
 * summary and one aligned row per layer (shapes, params, MACs, weight statistics); --json writes the Report.
 */
import type { Command } from 'commander';
import type { Dim } from '../../../engine/ir';
import { describeLayers } from '../../layers';
import { loadModel } from '../../onnx/load';
import { formatBytes } from '../../onnx/limits';
import type { LayerReport, Report } from '../../report';
import { newReport } from '../../reportModel';
import { inferShapes } from '../../shapes/infer';
import type { ShapeOverrides } from '../../shapes/inputs';
import {
  addJsonOption, addLimitOptions, addShapeOption, compactNumber, formatTable, loadOptionsFrom, stat, terminalSafe, writeJsonOutput,
} from '../options';

interface InspectFlags {
  shape?: ShapeOverrides;
  json?: string;
  maxTensorMb?: number;
  maxMemoryMb?: number;
}

const dims = (s: readonly Dim[] | undefined) => (s ? `[${s.map((d) => (d === null ? '?' : terminalSafe(String(d)))).join(',')}]` : '?');

/** Builds the inspect Report (exported for the extension and tests). */
export async function inspectModel(file: string, flags: InspectFlags = {}): Promise<Report> {
  const t0 = performance.now();
  // external weights are streamed: statistics read one tensor at a time, so huge models fit in memory
  const loaded = await loadModel(file, { ...loadOptionsFrom(flags), externalData: 'lazy' });
  const t1 = performance.now();
  const shapes = inferShapes(loaded.model, file, { overrides: flags.shape ?? {} });
  const t2 = performance.now();
  const layers = describeLayers(loaded, { shapes });
  const t3 = performance.now();
  const report = newReport('inspect', loaded, shapes, layers);
  // broken numbers are excluded from the statistics: say so, so the table's ranges are not read as the whole story
  for (const l of layers) {
    const w = l.weightStats;
    if (w && w.nanCount + w.infCount > 0) report.warnings.push(`layer '${l.name}': its weights hold ${w.nanCount} NaN and ${w.infCount} Inf value(s) (left out of the statistics)`);
  }
  report.timings = { load: t1 - t0, shapes: t2 - t1, layers: t3 - t2 };
  return report;
}

/** The human-readable summary + layer table. */
export function formatInspect(report: Report): string {
  const m = report.model;
  const opsets = Object.entries(m.opsets).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ');
  const io = (xs: typeof m.inputs) => xs.map((x) => `${terminalSafe(x.name)} ${x.dtype} ${dims(x.shape)}`).join('; ');
  const head = [
    `model     ${terminalSafe(m.path)}`,
    `producer  ${terminalSafe(m.producer) || '(unknown)'}   ir ${m.irVersion}   opsets ${terminalSafe(opsets)}`,
    `size      ${formatBytes(m.sizeBytes)}   params ${compactNumber(m.params)}   MACs ${compactNumber(m.macs)}   nodes ${m.nodeCount}`,
    `sha256    ${m.sha256}`,
    `inputs    ${io(m.inputs)}`,
    `outputs   ${io(m.outputs)}`,
  ];
  const header = ['#', 'layer', 'op', 'output', 'weight', 'params', 'MACs', 'w.min', 'w.max', 'w.std', 'kurt', 'ch.ratio'];
  const numeric = [true, false, false, false, false, true, true, true, true, true, true, true];
  const rows = report.layers.map((l: LayerReport, i) => {
    const w = l.weightStats;
    return [
      String(i), terminalSafe(l.name), terminalSafe(l.op), l.outputShapes.map(dims).join(' '), l.weightShape ? dims(l.weightShape) : '',
      l.params ? compactNumber(l.params) : '', l.macs ? compactNumber(l.macs) : '',
      stat(w?.min), stat(w?.max), stat(w?.std), stat(w?.kurtosis), w ? stat(w.channelRangeRatio) : '',
    ];
  });
  return `${head.join('\n')}\n\n${formatTable(header, rows, numeric)}\n`;
}

/** Registers `inspect` on the CLI. */
export function register(program: Command): void {
  const cmd = program.command('inspect').argument('<model>', 'an .onnx file').description('model summary and per-layer table (shapes, params, MACs, weight statistics)');
  addShapeOption(cmd);
  addJsonOption(cmd);
  addLimitOptions(cmd);
  cmd.action(async (model: string, flags: InspectFlags) => {
    const report = await inspectModel(model, flags);
    for (const w of report.warnings) process.stderr.write(`warning: ${terminalSafe(w)}\n`);
    process.stdout.write(formatInspect(report));
    if (flags.json) writeJsonOutput(flags.json, report);
  });
}
