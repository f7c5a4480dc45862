// SPDX-License-Identifier: Apache-2.0
/**
 * Flags shared by the CLI commands (DESIGN.md contract 1): `--shape NAME=DIMS` (repeatable), `--json FILE`
 * (written atomically), the resource caps, and terminal-safe printing of model-provided strings.
 */
import { Option, type Command } from 'commander';
import { QuantLensError } from '../../engine/errors';
import { atomicWriteJson } from '../io/atomicWrite';
import type { LoadOptions } from '../onnx/load';
import type { ShapeOverrides } from '../shapes/inputs';
import { parseShapeFlag } from '../shapes/inputs';

/** commander collector for repeatable `--shape NAME=1x3x224x224`. */
export function collectShape(value: string, previous: ShapeOverrides | undefined): ShapeOverrides {
  const [name, dims] = parseShapeFlag(value);
  return { ...(previous ?? {}), [name]: dims };
}

/** Adds `--shape`; read it back with `opts.shape ?? {}`. */
export function addShapeOption(cmd: Command): Command {
  return cmd.option('--shape <NAME=DIMS>', 'concrete shape for an input or a symbolic dim, e.g. input=1x3x224x224 (repeatable)', collectShape);
}

/** Adds `--json FILE`. */
export function addJsonOption(cmd: Command): Command {
  return cmd.option('--json <FILE>', 'write the report as JSON (Report schema) to FILE');
}

function positiveNumber(flag: string) {
  return (value: string): number => {
    const v = Number(value);
    if (!Number.isFinite(v) || v <= 0) throw new QuantLensError('usage', `${flag} expects a positive number, got '${value}'`);
    return v;
  };
}

/** Adds the loader's resource caps (--max-tensor-mb, --max-memory-mb). */
export function addLimitOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--max-tensor-mb <MB>', 'refuse any tensor larger than this').argParser(positiveNumber('--max-tensor-mb')))
    .addOption(new Option('--max-memory-mb <MB>', 'refuse models whose tensors together exceed this').argParser(positiveNumber('--max-memory-mb')));
}

/** LoadOptions from the parsed cap flags. */
export function loadOptionsFrom(opts: { maxTensorMb?: number; maxMemoryMb?: number }): LoadOptions {
  const MB = 1024 * 1024;
  const limits: LoadOptions['limits'] = {};
  if (opts.maxTensorMb) limits.maxTensorBytes = opts.maxTensorMb * MB;
  if (opts.maxMemoryMb) limits.maxTotalBytes = opts.maxMemoryMb * MB;
  return { limits };
}

/** Writes a report (or any JSON value) for --json, atomically. */
export function writeJsonOutput(file: string, value: unknown): void {
  atomicWriteJson(file, value);
}

/** Model-provided text made safe for a terminal: control characters (ANSI escapes!) shown as '?'. */
export function terminalSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
}

/** Left-aligned table with right-aligned numeric columns; `numeric[i]` marks column i numeric. */
export function formatTable(header: string[], rows: string[][], numeric: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** 1234567 → "1.23M"; small integers unchanged. */
export function compactNumber(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e12) return `${(n / 1e12).toFixed(2)}T`;
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** A statistic in 4 significant digits. */
export function stat(x: number | undefined): string {
  if (x === undefined) return '';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(2) : x.toPrecision(4).replace(/\.?0+$/, '');
}
