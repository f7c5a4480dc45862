// SPDX-License-Identifier: Apache-2.0
/**
 * Inline SVG charts for the self-contained HTML report: a histogram (linear or log counts) and a grouped
 * horizontal bar chart on a log axis for sensitivities with error whiskers. Every string that reaches the
 * markup goes through escapeHtml; numbers are formatted, never interpolated raw.
 */
import type { Histogram } from '../report';

/** Escape text for HTML element content and double-quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Compact number for labels. */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : 'n/a';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(2) : x.toPrecision(3);
}

const px = (x: number) => (Math.round(x * 10) / 10).toString();

/** A histogram as SVG bars over its edges; `log` plots log10(1 + count). */
export function histogramSvg(h: Histogram, opts: { width?: number; height?: number; color?: string; log?: boolean; title?: string } = {}): string {
  const W = opts.width ?? 280, H = opts.height ?? 90, pad = 14;
  const n = h.counts.length;
  if (n === 0) return '';
  const y = (c: number) => (opts.log ? Math.log10(1 + c) : c);
  const top = Math.max(...h.counts.map(y), 1e-12);
  const bw = (W - 2) / n;
  const bars: string[] = [];
  h.counts.forEach((c, i) => {
    if (c <= 0) return;
    const bh = (y(c) / top) * (H - pad - 2);
    bars.push(`<rect x="${px(1 + i * bw)}" y="${px(H - pad - bh)}" width="${px(Math.max(bw, 0.6))}" height="${px(bh)}"/>`);
  });
  const lo = h.edges[0], hi = h.edges[h.edges.length - 1];
  const title = opts.title ? `<title>${escapeHtml(opts.title)}</title>` : '';
  return `<svg class="hist" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${title}`
    + `<g fill="${opts.color ?? '#3b7dd8'}">${bars.join('')}</g>`
    + `<line x1="0" y1="${H - pad}" x2="${W}" y2="${H - pad}" stroke="#999" stroke-width="0.5"/>`
    + `<text x="1" y="${H - 3}" class="tick">${escapeHtml(fmtNum(lo))}</text>`
    + `<text x="${W - 1}" y="${H - 3}" class="tick" text-anchor="end">${escapeHtml(fmtNum(hi))}</text>`
    + (lo < 0 && hi > 0 ? `<line x1="${px(1 + ((0 - lo) / (hi - lo)) * (W - 2))}" y1="0" x2="${px(1 + ((0 - lo) / (hi - lo)) * (W - 2))}" y2="${H - pad}" stroke="#c33" stroke-width="0.5" stroke-dasharray="2,2"/>` : '')
    + '</svg>';
}

export interface BarSeries { name: string; color: string; values: ({ value: number; stdError?: number } | undefined)[] }

/** Grouped horizontal bars (one group per label) on a log10 axis, with ±1 SE whiskers. */
export function logBarChartSvg(labels: string[], series: BarSeries[], opts: { width?: number; title?: string } = {}): string {
  const W = opts.width ?? 760, labelW = 220, row = 6 + 9 * series.length, top = 24;
  const H = top + row * labels.length + 20;
  const vals = series.flatMap((s) => s.values.map((v) => v?.value ?? 0)).filter((v) => v > 0 && Number.isFinite(v));
  if (vals.length === 0) return '<p class="muted">no positive values to chart</p>';
  const lmin = Math.floor(Math.log10(Math.min(...vals))), lmax = Math.ceil(Math.log10(Math.max(...vals)));
  const span = Math.max(1, lmax - lmin);
  const x = (v: number) => labelW + ((Math.log10(Math.max(v, 10 ** lmin)) - lmin) / span) * (W - labelW - 10);
  const parts: string[] = [];
  for (let d = lmin; d <= lmax; d++) {
    parts.push(`<line x1="${px(x(10 ** d))}" y1="${top - 4}" x2="${px(x(10 ** d))}" y2="${H - 18}" stroke="#ddd" stroke-width="0.5"/>`
      + `<text x="${px(x(10 ** d))}" y="${H - 6}" class="tick" text-anchor="middle">1e${d}</text>`);
  }
  labels.forEach((label, i) => {
    const y0 = top + i * row;
    parts.push(`<text x="${labelW - 6}" y="${px(y0 + row / 2 + 3)}" class="lbl" text-anchor="end">${escapeHtml(label.length > 34 ? `…${label.slice(-33)}` : label)}</text>`);
    series.forEach((s, k) => {
      const v = s.values[i];
      if (!v || !(v.value > 0) || !Number.isFinite(v.value)) return;
      const y = y0 + 3 + k * 9;
      parts.push(`<rect x="${labelW}" y="${y}" width="${px(Math.max(0.5, x(v.value) - labelW))}" height="7" fill="${s.color}"><title>${escapeHtml(`${s.name}: ${fmtNum(v.value)}${v.stdError ? ` ± ${fmtNum(v.stdError)}` : ''}`)}</title></rect>`);
      if (v.stdError && v.stdError > 0) {
        const a = x(Math.max(v.value - v.stdError, 10 ** lmin)), b = x(v.value + v.stdError);
        parts.push(`<line x1="${px(a)}" y1="${y + 3.5}" x2="${px(b)}" y2="${y + 3.5}" stroke="#222" stroke-width="0.8"/>`);
      }
    });
  });
  const legend = series.map((s, k) => `<rect x="${labelW + k * 150}" y="4" width="10" height="10" fill="${s.color}"/><text x="${labelW + k * 150 + 14}" y="13" class="lbl">${escapeHtml(s.name)}</text>`).join('');
  const title = opts.title ? `<title>${escapeHtml(opts.title)}</title>` : '';
  return `<svg class="bars" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${title}${legend}${parts.join('')}</svg>`;
}
