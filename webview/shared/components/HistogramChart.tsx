// SPDX-License-Identifier: Apache-2.0
/** A histogram (step area) with quantization grids and clip points overlaid; linear or log y axis. */
import React, { useMemo } from 'react';
import { Area, CartesianGrid, ComposedChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Histogram } from '../../../analysis/report';
import { sig } from '../format';

/** One overlay: a format's grid points and/or clip range, drawn in one theme colour. */
export interface Overlay { label: string; color: string; grid?: number[]; clip?: [number, number] }

/** At most this many grid lines per overlay (a dense grid reads as a band anyway). */
const MAX_GRID_LINES = 300;

/** Histogram points at bin centres; with a log axis empty bins are left out (log 0 is undefined). */
export function histogramPoints(h: Histogram, logY: boolean): { x: number; count: number | null }[] {
  return h.counts.map((c, i) => ({ x: (h.edges[i] + h.edges[i + 1]) / 2, count: logY && c <= 0 ? null : c }));
}

/** Pick at most `max` evenly spaced grid points that fall in [lo, hi]. */
export function visibleGrid(grid: readonly number[], lo: number, hi: number, max = MAX_GRID_LINES): number[] {
  const inside = grid.filter((g) => g >= lo && g <= hi);
  if (inside.length <= max) return inside;
  const step = inside.length / max;
  return Array.from({ length: max }, (_, i) => inside[Math.floor(i * step)]);
}

export function HistogramChart(props: { histogram: Histogram; overlays?: Overlay[]; logY?: boolean; height?: number; testId?: string }): React.ReactElement {
  const { histogram, overlays = [], logY = false } = props;
  const data = useMemo(() => histogramPoints(histogram, logY), [histogram, logY]);
  const lo = histogram.edges[0], hi = histogram.edges[histogram.edges.length - 1];
  // clip points may widen the axis, but by at most a quarter of the data's span (a symmetric grid on a
  // one-sided tensor would otherwise squash the histogram into half the chart)
  const margin = (hi - lo) * 0.25;
  const clipLo = Math.max(lo - margin, Math.min(lo, ...overlays.flatMap((o) => (o.clip ? [o.clip[0]] : []))));
  const clipHi = Math.min(hi + margin, Math.max(hi, ...overlays.flatMap((o) => (o.clip ? [o.clip[1]] : []))));
  return (
    <div className="chart" style={{ height: props.height ?? 260 }} data-testid={props.testId ?? 'histogram'} data-log={logY ? 'log' : 'linear'}>
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart data={data} margin={{ top: 8, right: 16, bottom: 4, left: 4 }}>
          <CartesianGrid strokeDasharray="2 4" />
          <XAxis dataKey="x" type="number" domain={[clipLo, clipHi]} tickFormatter={(v: number) => sig(v, 2)} allowDataOverflow />
          <YAxis scale={logY ? 'log' : 'linear'} domain={logY ? [1, 'auto'] : [0, 'auto']} allowDataOverflow tickFormatter={(v: number) => sig(v, 2)} width={52} />
          <Tooltip formatter={(v: number) => [String(v), 'count']} labelFormatter={(x: number) => `x ≈ ${sig(x, 4)}`} isAnimationActive={false} />
          <Area type="stepAfter" dataKey="count" stroke="var(--vscode-charts-blue)" fill="var(--vscode-charts-blue)" fillOpacity={0.35} isAnimationActive={false} connectNulls={false} />
          {overlays.flatMap((o) => {
            const lines = visibleGrid(o.grid ?? [], clipLo, clipHi);
            // a dense grid (uint8: 256 levels) reads as a band: draw it faint so the histogram stays visible
            const opacity = lines.length > 64 ? 0.18 : 0.55;
            return lines.map((g, i) => <ReferenceLine key={`${o.label}-g${i}`} x={g} stroke={o.color} strokeOpacity={opacity} ifOverflow="hidden" className="grid-line" />);
          })}
          {overlays.flatMap((o) => (o.clip ? o.clip.map((c, i) => (
            <ReferenceLine key={`${o.label}-c${i}`} x={c} stroke={o.color} strokeWidth={2} strokeDasharray="5 3" ifOverflow="hidden" className="clip-line"
              label={i === 1 ? { value: `${o.label} ${sig(c, 3)}`, position: 'insideTopRight', fill: o.color, fontSize: 11 } : undefined} />
          )) : []))}
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
