// SPDX-License-Identifier: Apache-2.0
/** One sensitivity number per layer (host side): perturbation at int4 when measured, else the largest score. */
import { resolveLayer, type QuantConfig } from '../analysis/config/types';
import { FORMATS } from '../analysis/quant/formats';
import type { LayerReport, Report } from '../analysis/report';

export function sensitivityOf(l: LayerReport): number | undefined {
  const s = l.sensitivity;
  if (!s) return undefined;
  for (const table of [s.perturbation, s.hessianTrace, s.layerHessian]) {
    if (!table) continue;
    const v = table.int4 ?? table.int8 ?? Object.values(table).sort((a, b) => b.value - a.value)[0];
    if (v && Number.isFinite(v.value)) return v.value;
  }
  return undefined;
}

/** Layers ranked in the most sensitive quarter but given fewer than 8 weight bits ("should stay at 8 bits"). */
export function sensitiveLayerFindings(config: QuantConfig, report: Report): { layer: string; format: string; rank: number; of: number }[] {
  const scored = report.layers.map((l) => ({ l, s: sensitivityOf(l) })).filter((x): x is { l: LayerReport; s: number } => x.s !== undefined).sort((a, b) => b.s - a.s);
  const top = scored.slice(0, Math.max(1, Math.ceil(scored.length / 4)));
  const out: { layer: string; format: string; rank: number; of: number }[] = [];
  top.forEach(({ l }, i) => {
    const w = resolveLayer(config, l.name).weights;
    if (w && (FORMATS[w.format]?.bits ?? 8) < 8) out.push({ layer: l.name, format: w.format, rank: i + 1, of: scored.length });
  });
  return out;
}
