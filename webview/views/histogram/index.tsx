// SPDX-License-Identifier: Apache-2.0
/** Entry of dist/webview/histogram.js: a layer's output activations, clip ranges per calibration method, format grids. */
import React, { useCallback, useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { HistogramData, TrustInfo } from '../../protocol';
import { RpcError } from '../../protocol';
import { BusyBanner, ErrorBanner, TrustBanner } from '../../shared/components/Banners';
import { HistogramChart, type Overlay } from '../../shared/components/HistogramChart';
import { sig } from '../../shared/format';
import { getHost } from '../../shared/host';
import { usePersistedState, useRestoreState } from '../../shared/hooks';
import { boot } from '../../shared/boot';
import { SERIES } from '../../shared/styles';
import { YScaleToggle } from '../../shared/components/YScale';
import { type ControlEvent, checkedOf, valueOf, VSCodeCheckbox, VSCodeDropdown, VSCodeOption } from '../../shared/toolkit';

type Activation = NonNullable<HistogramData['activation']>;
const GRID_COLORS = [SERIES[1], SERIES[2], SERIES[3]];
/** The dropdown value of "no format" (an option's empty value would fall back to its text). */
const NONE = '(none)';
const CLIP_COLORS = ['var(--vscode-charts-yellow)', 'var(--vscode-charts-red)', 'var(--vscode-charts-green)', 'var(--vscode-charts-purple)'];

function ChannelRanges({ a }: { a: Activation }): React.ReactElement | null {
  if (a.channelRanges.length < 2) return null;
  const outliers = new Set(a.outlierChannels);
  const data = a.channelRanges.map((c) => ({ channel: c.channel, range: [c.min, c.max] as [number, number] }));
  return (
    <>
      <h2>Per-channel range <span className="muted">({a.channelRanges.length} channels{outliers.size ? `, ${outliers.size} outlier${outliers.size > 1 ? 's' : ''} highlighted` : ''})</span></h2>
      <div className="chart small" data-testid="channel-ranges">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 4, right: 16, bottom: 4, left: 4 }}>
            <CartesianGrid strokeDasharray="2 4" />
            <XAxis dataKey="channel" />
            <YAxis tickFormatter={(v: number) => sig(v, 2)} width={52} />
            <Tooltip formatter={(v: [number, number]) => [`${sig(v[0])} … ${sig(v[1])}`, 'range']} labelFormatter={(c: number) => `channel ${c}${outliers.has(c) ? ' (outlier)' : ''}`} isAnimationActive={false} />
            <Bar dataKey="range" isAnimationActive={false}>
              {data.map((d) => <Cell key={d.channel} className={outliers.has(d.channel) ? 'outlier' : ''} fill={outliers.has(d.channel) ? 'var(--vscode-charts-red)' : 'var(--vscode-charts-blue)'} />)}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
    </>
  );
}

function HistogramView({ data, trust, busy }: { data: HistogramData; trust: TrustInfo; busy: string | null }): React.ReactElement {
  const host = getHost();
  const [layer, setLayer] = usePersistedState<string | null>('layer', data.layer);
  const [follow, setFollow] = usePersistedState('follow', data.follow);
  const [logY, setLogY] = usePersistedState('logY', true);
  const [formats, setFormats] = usePersistedState<string[]>('formats', data.selectedFormats);
  const [activation, setActivation] = useState<Activation | undefined>(data.activation);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => host.on('selection', (m) => { if (follow && m.layer) setLayer(m.layer); }), [host, follow, setLayer]);
  // the host asking for another layer or other formats (from the editor) moves the panel there; the same request
  // again (the webview reloaded after being hidden, or restored after a window reload) keeps the user's choices
  const [asked, setAsked] = usePersistedState<string>('hostAsked', '');
  useEffect(() => {
    const key = JSON.stringify([data.layer, data.selectedFormats]);
    if (key === asked) return;
    setAsked(key);
    if (data.layer) setLayer(data.layer);
    // same formats → keep the same array, so the histogram is not requested twice
    setFormats((old) => (old.join() === data.selectedFormats.join() ? old : data.selectedFormats));
  }, [data, asked, setAsked, setLayer, setFormats]);
  useRestoreState({ view: 'histogram', modelPath: data.modelPath, layer });

  const load = useCallback((signal: AbortSignal) => {
    if (!layer || !trust.canExecute) return;
    setLoading(true); setError(null);
    host.rpc.request('activationHistogram', { layer, formats: formats.filter(Boolean).slice(0, 3) }, { signal })
      .then((a) => { setActivation(a); setLoading(false); })
      .catch((e: unknown) => { if (!(e instanceof RpcError && e.kind === 'cancelled')) { setError((e as Error).message); setLoading(false); } });
  }, [host, layer, formats, trust.canExecute]);
  useEffect(() => { const ac = new AbortController(); load(ac.signal); return () => ac.abort(); }, [load]);

  const overlays: Overlay[] = activation ? [
    ...activation.grids.map((g, i) => ({ label: g.format, color: GRID_COLORS[i % 3], grid: g.grid })),
    ...activation.clipRanges.map((c, i) => ({ label: c.method, color: CLIP_COLORS[i % CLIP_COLORS.length], clip: [c.min, c.max] as [number, number] })),
  ] : [];
  const setFormat = (i: number, v: string): void => setFormats((old) => { const next = [...old]; next[i] = v; return next.filter((x, j) => x || j < i); });

  return (
    <div>
      <div className="row">
        <h1 className="grow">Activation histogram</h1>
        <label className="row tight">Layer
          <VSCodeDropdown value={layer ?? ''} onChange={(e: ControlEvent) => { const v = valueOf(e); if (v && v !== layer) setLayer(v); }} data-testid="layer-select" className="wide" position="below">
            {data.layers.map((l) => <VSCodeOption key={l} value={l} selected={l === layer}>{l}</VSCodeOption>)}
          </VSCodeDropdown></label>
        <VSCodeCheckbox checked={follow} onChange={(e: ControlEvent) => setFollow(checkedOf(e))} data-testid="follow">follow selection</VSCodeCheckbox>
        <YScaleToggle logY={logY} onChange={setLogY} />
      </div>
      <div className="row" style={{ margin: '6px 0' }}>
        {[0, 1, 2].map((i) => (
          <label key={i} className="row tight"><span><span className="legend-swatch" style={{ background: GRID_COLORS[i] }} />Format {i + 1}</span>
            <VSCodeDropdown value={formats[i] || NONE} onChange={(e: ControlEvent) => { const v = valueOf(e); if (v) setFormat(i, v === NONE ? '' : v); }} data-testid={`format-${i}`} position="below">
              <VSCodeOption value={NONE} selected={!formats[i]}>(none)</VSCodeOption>
              {data.formats.map((f) => <VSCodeOption key={f.id} value={f.id} title={f.label} selected={formats[i] === f.id}>{f.id}</VSCodeOption>)}
            </VSCodeDropdown></label>
        ))}
      </div>
      <TrustBanner trust={trust} />
      <BusyBanner label={loading ? 'Running the calibration samples' : busy} />
      <ErrorBanner error={error} />
      {activation && (
        <>
          <p className="muted" data-testid="activation-title"><span className="mono">{activation.layer}</span> ({activation.op}) output over {activation.samples} samples</p>
          <HistogramChart histogram={activation.histogram} overlays={overlays} logY={logY} height={320} testId="activation-histogram" />
          <div className="split" style={{ marginTop: 8 }}>
            <table className="kv" data-testid="grid-errors" style={{ flex: 1 }}>
              <thead><tr><th>format grid</th><th className="num">levels</th><th className="num">MSE</th><th className="num">SQNR</th></tr></thead>
              <tbody>{activation.grids.map((g, i) => (
                <tr key={g.format}><td><span className="legend-swatch" style={{ background: GRID_COLORS[i] }} /><span className="fmt">{g.format}</span></td>
                  <td className="num">{g.grid.length}</td><td className="num mono">{sig(g.mse)}</td><td className="num mono">{sig(g.sqnrDb, 3)} dB</td></tr>
              ))}</tbody>
            </table>
            <table className="kv" data-testid="clip-ranges" style={{ flex: 1 }}>
              <thead><tr><th>calibration</th><th className="num">clip min</th><th className="num">clip max</th></tr></thead>
              <tbody>{activation.clipRanges.map((c, i) => (
                <tr key={c.method}><td><span className="legend-swatch" style={{ background: CLIP_COLORS[i % CLIP_COLORS.length] }} />{c.method}</td>
                  <td className="num mono">{sig(c.min)}</td><td className="num mono">{sig(c.max)}</td></tr>
              ))}</tbody>
            </table>
          </div>
          <ChannelRanges a={activation} />
        </>
      )}
    </div>
  );
}

boot('histogram', HistogramView);
