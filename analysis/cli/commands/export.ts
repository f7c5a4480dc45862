// SPDX-License-Identifier: Apache-2.0
/**
 * `quantlens export <model> --config FILE --out model.qdq.onnx [--force] [--overrides FILE] [--llama-types FILE]`:
 * a QDQ ONNX model onnxruntime runs (checked by loading it before anything is written), plus optionally the
 * config as onnxruntime TensorQuantOverrides JSON and a llama.cpp-style per-tensor type list. Never writes the
 * input model; never replaces an existing file without --force.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { QuantLensError } from '../../../engine/errors';
import { quantizableLayers } from '../../config/toQuantSpec';
import { buildQdqExport, calibrationNeed } from '../../export/exportModel';
import type { QdqExportNote } from '../../export/qdq';
import { llamaTypeList, tensorQuantOverrides, type Unmapped } from '../../export/tensorOverrides';
import { atomicWriteFile, atomicWriteJson } from '../../io/atomicWrite';
import { loadModel } from '../../onnx/load';
import { VERSION } from '../main';
import { addLimitOptions, addShapeOption, formatTable, loadOptionsFrom, terminalSafe } from '../options';
import { addDataOptions, configFromFlags, sourcesFromFlags, type DataFlags } from './eval';

interface ExportFlags extends DataFlags {
  config?: string;
  preset?: string;
  out: string;
  force?: boolean;
  overrides?: string;
  llamaTypes?: string;
  maxTensorMb?: number;
  maxMemoryMb?: number;
}

/** Refuse to write over the model or over an existing file without --force, before any work is done. */
function checkTarget(file: string | undefined, model: string, force: boolean | undefined): void {
  if (!file) return;
  if (path.resolve(file) === path.resolve(model)) throw new QuantLensError('usage', `${file}: is the input model; QuantLens never writes the model file`, file);
  if (!force && existsSync(file)) throw new QuantLensError('usage', `${file}: already exists; pass --force to overwrite it`, file);
}

/** Lines telling the user which tensors were not stored in their own format. */
export function formatNotes(notes: QdqExportNote[], unmapped: Unmapped[] = []): string {
  const special = notes.filter((n) => n.reason !== undefined);
  const rows = special.map((n) => [terminalSafe(n.node), n.role, n.format, n.stored, terminalSafe(n.reason ?? '')]);
  const un = unmapped.map((u) => `  ${terminalSafe(u.tensor)} (${u.format}): ${u.reason}`);
  return (rows.length ? `${formatTable(['layer', 'tensor', 'format', 'stored as', 'why'], rows, [false, false, false, false, false])}\n` : '')
    + (un.length ? `not in the overrides/type list:\n${un.join('\n')}\n` : '');
}

/** Registers `export` on the CLI. */
export function register(program: Command): void {
  const cmd = program.command('export').argument('<model>', 'an .onnx file')
    .description('write a QDQ ONNX model (and optionally TensorQuantOverrides / a llama.cpp type list) for a config')
    .option('--config <FILE>', 'a *.quant.json config')
    .option('--preset <NAME>', 'a uniform preset instead of a config')
    .requiredOption('--out <FILE>', 'the QDQ .onnx to write')
    .option('--force', 'overwrite existing output files')
    .option('--overrides <FILE>', 'also write onnxruntime TensorQuantOverrides JSON')
    .option('--llama-types <FILE>', 'also write a llama.cpp-style tensor=type list');
  addDataOptions(cmd, 'calibrate activations on (when the config quantizes activations)');
  addShapeOption(cmd);
  addLimitOptions(cmd);
  cmd.action(async (model: string, flags: ExportFlags) => {
    for (const f of [flags.out, flags.overrides, flags.llamaTypes]) checkTarget(f, model, flags.force);
    const loaded = await loadModel(model, loadOptionsFrom(flags));
    const { config, warnings } = configFromFlags(flags, loaded, model);
    const need = calibrationNeed(loaded, config);
    if (need && flags.data === undefined && flags.random === undefined && flags.calib === undefined && !config.calibration?.data) {
      throw new QuantLensError('usage', `${need}: give --calib DIR (or --data DIR / --random N), or set calibration.data in the config`);
    }
    const calib = need ? sourcesFromFlags(flags, loaded, config, flags.config).calibSource : undefined;
    const { result, built, constants } = await buildQdqExport(loaded, readFileSync(model), config, calib, {
      'quantlens.version': VERSION, 'quantlens.config': flags.config ? path.basename(flags.config) : `preset:${flags.preset}`,
    });
    atomicWriteFile(flags.out, result.bytes, { overwrite: !!flags.force });
    const nodes = loaded.model.graph.nodes;
    let unmapped: Unmapped[] = [];
    if (flags.overrides) {
      const o = tensorQuantOverrides(nodes, built.engine);
      atomicWriteJson(flags.overrides, o.overrides, { overwrite: !!flags.force });
      unmapped = unmapped.concat(o.unmapped);
    }
    if (flags.llamaTypes) {
      const quantized = new Set(quantizableLayers(loaded.model.graph, constants).filter((l) => built.engine.layers[l.node.name]?.weights).map((l) => l.weightName));
      const floats = [...loaded.model.graph.initializers.keys()].filter((n) => !quantized.has(n));
      const t = llamaTypeList(nodes, built.engine, floats);
      atomicWriteFile(flags.llamaTypes, t.text, { overwrite: !!flags.force });
      unmapped = unmapped.concat(t.unmapped);
    }
    for (const w of warnings) process.stderr.write(`warning: ${terminalSafe(w)}\n`);
    const counts = new Map<string, number>();
    for (const n of result.notes) counts.set(n.stored, (counts.get(n.stored) ?? 0) + 1);
    process.stdout.write(`wrote ${flags.out} (opset ${result.opset}; ${[...counts].map(([k, v]) => `${v} × ${k}`).join(', ')})\n`);
    process.stdout.write(formatNotes(result.notes, unmapped));
    if (flags.overrides) process.stdout.write(`wrote ${flags.overrides}\n`);
    if (flags.llamaTypes) process.stdout.write(`wrote ${flags.llamaTypes}\n`);
  });
}
