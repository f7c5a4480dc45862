// SPDX-License-Identifier: Apache-2.0
/** Number and shape formatting shared by the views. */
import type { LayerReport } from '../../analysis/report';

type Dim = LayerReport['inputShapes'][number][number];

/** 1234567 → "1.23M"; small numbers as they are. */
export function compact(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return n === undefined ? '' : String(n);
  const a = Math.abs(n);
  if (a >= 1e12) return `${(n / 1e12).toFixed(2)}T`;
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toPrecision(3);
}

/** A float to 3–4 significant digits, exponent form when tiny or huge. */
export function sig(n: number | undefined | null, digits = 3): string {
  if (n === undefined || n === null) return '';
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const a = Math.abs(n);
  return a < 1e-3 || a >= 1e5 ? n.toExponential(digits - 1) : n.toPrecision(digits);
}

/** [1,3,224,224] → "1×3×224×224"; symbolic dims by name, unknown as "?". */
export function shape(dims: readonly Dim[] | undefined): string {
  if (!dims) return '?';
  return dims.length === 0 ? 'scalar' : dims.map((d) => (d === null ? '?' : String(d))).join('×');
}

/** Bytes as KB/MB/GB. */
export function bytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KB`;
  return `${n} B`;
}
