// SPDX-License-Identifier: Apache-2.0
/** One sensitivity number per layer (host side): perturbation at int4 when measured, else the largest score. */
import type { LayerReport } from '../analysis/report';

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
