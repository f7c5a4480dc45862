// SPDX-License-Identifier: Apache-2.0
/**
 * Deterministic JSON for `*.quant.json`: a fixed key order (the order a reader expects: what, then how, then
 * why), layers sorted by name with numbers compared numerically, two-space indent, trailing newline. The same
 * config always gives the same bytes, so configs diff cleanly in version control.
 */
import type { QuantConfig } from './types';

/** Preferred key order per object kind; keys not listed follow alphabetically. */
const TOP_ORDER = ['$schema', 'version', 'model', 'defaults', 'layers', 'calibration', 'provenance'];
const KEY_ORDER = [
  'path', 'sha256',
  'weights', 'activations', 'pinned',
  'format', 'granularity', 'calibration', 'symmetric', 'rounding',
  'data', 'random', 'samples', 'seed', 'shapes', 'preprocessing', 'size', 'mean', 'std', 'channelOrder', 'layout',
  'method', 'preset', 'budget', 'kind', 'value', 'sensitivity', 'predicted', 'loss', 'avgWeightBits', 'sizeMB', 'bops',
  'latencyMs', 'measured', 'metric', 'fp32', 'quantized', 'delta', 'tool', 'name', 'createdAt',
];
const topRank = new Map(TOP_ORDER.map((k, i) => [k, i] as const));
const rank = new Map(KEY_ORDER.map((k, i) => [k, i] as const));
const collator = new Intl.Collator('en', { numeric: true });

/** The canonical text of a config. */
export function serializeConfig(config: QuantConfig): string {
  return `${JSON.stringify(canonical(config, []), null, 2)}\n`;
}

function canonical(v: unknown, path: string[]): unknown {
  if (Array.isArray(v)) return v.map((x) => canonical(x, path));
  if (v === null || typeof v !== 'object') return v;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  // node names under `layers` and input names under `shapes` are data, not schema keys: sort them by name
  const byName = path[path.length - 1] === 'layers' || path[path.length - 1] === 'shapes';
  entries.sort(([a], [b]) => (byName ? collator.compare(a, b) : order(a, path.length === 0) - order(b, path.length === 0) || collator.compare(a, b)));
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) out[k] = canonical(x, [...path, k]);
  return out;
}

function order(k: string, top: boolean): number {
  return (top ? topRank.get(k) : rank.get(k)) ?? KEY_ORDER.length;
}
