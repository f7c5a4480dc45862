// SPDX-License-Identifier: Apache-2.0
/** The layer table's data logic (pure, tested in Node): columns, sort keys, filtering, sensitivity scale. */
import type { LayerReport, Sensitivity } from '../../../analysis/report';
import { shape } from '../../shared/format';

export type SortKey = 'index' | 'name' | 'op' | 'shape' | 'params' | 'macs' | 'range' | 'kurtosis' | 'tags' | 'sensitivity' | 'format';
export interface SortState { key: SortKey; desc: boolean }

/** One table row: the layer plus derived values computed once per report. */
export interface LayerRow {
  index: number;
  layer: LayerReport;
  outShape: string;
  sensitivity: number | undefined;
  /** 0..1 rank of `sensitivity` among layers that have one (the colour scale). */
  sensitivityRank: number;
  formatLabel: string;
  search: string;
}

/** Preferred format for the one-number sensitivity column: int4 shows differences best; else the largest. */
const PREFERRED = ['int4', 'int8'];

/** One number per layer: perturbation, else Hessian trace, else layer Hessian, for int4 when present. */
export function sensitivityScore(s: Sensitivity | undefined): number | undefined {
  if (!s) return undefined;
  for (const table of [s.perturbation, s.hessianTrace, s.layerHessian]) {
    if (!table) continue;
    const keys = Object.keys(table);
    if (keys.length === 0) continue;
    const key = PREFERRED.find((k) => k in table) ?? keys.reduce((a, b) => (table[b].value > table[a].value ? b : a));
    return table[key].value;
  }
  return undefined;
}

/** Rows for a report's layers, with sensitivity ranks. */
export function buildRows(layers: readonly LayerReport[]): LayerRow[] {
  const rows: LayerRow[] = layers.map((layer, index) => {
    const tags = layer.tags.map((t) => t.id).join(' ');
    const fmt = layer.format ? [layer.format.weights && `W ${layer.format.weights}`, layer.format.activations && `A ${layer.format.activations}`].filter(Boolean).join(' · ') : '';
    return {
      index, layer, outShape: shape(layer.outputShapes[0]), sensitivity: sensitivityScore(layer.sensitivity), sensitivityRank: 0,
      formatLabel: fmt, search: `${layer.name}\n${layer.op}\n${tags}\n${fmt}`.toLowerCase(),
    };
  });
  const scored = rows.filter((r) => r.sensitivity !== undefined && Number.isFinite(r.sensitivity)).sort((a, b) => a.sensitivity! - b.sensitivity!);
  scored.forEach((r, i) => { r.sensitivityRank = scored.length > 1 ? i / (scored.length - 1) : 1; });
  return rows;
}

function sortValue(r: LayerRow, key: SortKey): number | string {
  const w = r.layer.weightStats;
  switch (key) {
    case 'index': return r.index;
    case 'name': return r.layer.name.toLowerCase();
    case 'op': return r.layer.op;
    case 'shape': return r.outShape;
    case 'params': return r.layer.params;
    case 'macs': return r.layer.macs;
    case 'range': return w ? w.max - w.min : -Infinity;
    case 'kurtosis': return w ? w.kurtosis : -Infinity;
    case 'tags': return r.layer.tags.length;
    case 'sensitivity': return r.sensitivity ?? -Infinity;
    case 'format': return r.formatLabel;
    default: return key satisfies never;
  }
}

/**
 * Filter by a query (space-separated terms, all must match name, op, tag or format; `op:Conv` matches the op
 * exactly; `tag:heavy` a tag) and sort stably.
 */
export function filterAndSort(rows: readonly LayerRow[], query: string, sort: SortState): LayerRow[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  const out = rows.filter((r) => terms.every((t) => {
    if (t.startsWith('op:')) return r.layer.op.toLowerCase() === t.slice(3);
    if (t.startsWith('tag:')) return r.layer.tags.some((g) => g.id.toLowerCase().includes(t.slice(4)));
    return r.search.includes(t);
  }));
  const dir = sort.desc ? -1 : 1;
  return out.sort((a, b) => {
    const x = sortValue(a, sort.key), y = sortValue(b, sort.key);
    const c = x < y ? -1 : x > y ? 1 : 0;
    return c !== 0 ? c * dir : a.index - b.index;
  });
}
