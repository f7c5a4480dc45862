// SPDX-License-Identifier: Apache-2.0
/** Entry of dist/webview/accuracy.js: FP32 vs quantized metrics and where the error enters, layer by layer. */
import React from 'react';
import { Bar, CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { AccuracyData, TrustInfo } from '../../protocol';
import { Card, TrustBanner } from '../../shared/components/Banners';
import { sig } from '../../shared/format';
import { boot } from '../../shared/boot';
import { useRestoreState } from '../../shared/hooks';
import { SERIES } from '../../shared/styles';

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** The paired test's verdict: a delta of a few samples is usually borderline samples flipping, not a real loss. */
function pairedHint(p: { lost: number; gained: number; pValue: number } | undefined): string {
  if (!p) return '';
  return ` · ${p.lost} lost, ${p.gained} gained, McNemar p = ${sig(p.pValue, 2)}${p.pValue < 0.05 ? '' : ' (not significant)'}`;
}

function Accuracy({ data, trust }: { data: AccuracyData; trust: TrustInfo; busy: string | null }): React.ReactElement {
  const e = data.eval;
  useRestoreState({ view: 'accuracy', modelPath: data.modelPath });
  const layers = e.layers.filter((l) => Number.isFinite(l.sqnrDb)).map((l, i) => ({ ...l, index: i }));
  // the SQNR drop from one layer to the next: where along the graph the error enters
  const withDrop = layers.map((l, i) => ({ ...l, drop: i === 0 ? 0 : Math.max(0, layers[i - 1].sqnrDb - l.sqnrDb) }));
  return (
    <div>
      <h1>Accuracy delta <span className="muted">({data.configLabel})</span></h1>
      <TrustBanner trust={trust} />
      <div className="cards">
        {e.accuracy && <Card testId="acc-delta" title="Top-1 accuracy" tone={e.accuracy.delta < -0.01 ? 'bad' : 'good'}
          value={`${e.accuracy.delta >= 0 ? '+' : ''}${(e.accuracy.delta * 100).toFixed(2)} pts`} hint={`FP32 ${pct(e.accuracy.fp32)} → quantized ${pct(e.accuracy.quantized)}${pairedHint(e.accuracy.paired)}`} />}
        {e.top1Agreement !== null && <Card title="Top-1 agreement with FP32" value={pct(e.top1Agreement)} />}
        {e.kl !== null && <Card title="KL(FP32 ‖ quantized)" value={sig(e.kl)} />}
        <Card title="Output SQNR" value={`${sig(e.sqnrDb, 3)} dB`} />
        {e.weights && <Card title="Weights" value={`${sig(e.weights.avgBits, 3)} bits`} hint={`${sig(e.weights.sizeMB, 3)} MB vs ${sig(e.weights.fp32SizeMB, 3)} MB FP32`} />}
        {e.latencyMs && <Card title="Engine latency / sample" value={`${sig(e.latencyMs.quantized, 3)} ms`} hint={`FP32 ${sig(e.latencyMs.fp32, 3)} ms`} />}
        <Card title="Engine FP32 parity (max |Δ|)" value={sig(e.parity.maxAbsDiff)} hint={e.samples ? `${e.samples} samples` : undefined} />
      </div>
      {e.notApplicable && <p className="muted">{Object.entries(e.notApplicable).map(([k, v]) => `${k}: ${v}`).join(' · ')}</p>}
      <h2>Error propagation: SQNR of each layer’s output vs FP32, in graph order</h2>
      <div className="chart" style={{ height: 320 }} data-testid="propagation-chart">
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={withDrop} margin={{ top: 4, right: 16, bottom: 4, left: 4 }}>
            <CartesianGrid strokeDasharray="2 4" />
            <XAxis dataKey="name" tick={false} />
            <YAxis yAxisId="sqnr" width={52} tickFormatter={(v: number) => sig(v, 3)} label={{ value: 'dB', angle: -90, position: 'insideLeft' }} />
            <YAxis yAxisId="drop" orientation="right" width={52} tickFormatter={(v: number) => sig(v, 2)} />
            <Tooltip isAnimationActive={false} formatter={(v: number, n: string) => [`${sig(v, 3)} dB`, n]} />
            <Bar yAxisId="drop" dataKey="drop" name="SQNR lost at this layer" fill={SERIES[1]} isAnimationActive={false} />
            <Line yAxisId="sqnr" dataKey="sqnrDb" name="output SQNR" stroke={SERIES[0]} dot={false} isAnimationActive={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      <table className="kv" data-testid="layer-table">
        <thead><tr><th>layer</th><th>op</th><th className="num">SQNR</th><th>kernel</th><th className="num">ms</th></tr></thead>
        <tbody>{e.layers.map((l) => <tr key={l.name}><td className="mono">{l.name}</td><td>{l.op}</td><td className="num mono">{sig(l.sqnrDb, 3)}</td><td>{l.kernel}</td><td className="num mono">{sig(l.latencyMs, 2)}</td></tr>)}</tbody>
      </table>
    </div>
  );
}

boot('accuracy', Accuracy);
