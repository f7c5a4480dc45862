// SPDX-License-Identifier: Apache-2.0
/** Entry of dist/webview/quantizeLayer.js: one layer's weights under one format, and the model's accuracy delta. */
import React from 'react';
import type { QuantizeLayerData, TrustInfo } from '../../protocol';
import { BusyBanner, Card, TrustBanner } from '../../shared/components/Banners';
import { HistogramChart } from '../../shared/components/HistogramChart';
import { YScaleToggle } from '../../shared/components/YScale';
import { sig } from '../../shared/format';
import { usePersistedState, useRestoreState } from '../../shared/hooks';
import { boot } from '../../shared/boot';

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

function AccuracyCard({ data, trust, busy }: { data: QuantizeLayerData; trust: TrustInfo; busy: string | null }): React.ReactElement {
  const a = data.result.accuracyDelta;
  if (a) {
    const isFraction = a.metric !== 'output SQNR (dB)';
    return <Card testId="accuracy-delta" title={`Model ${a.metric}, only this layer quantized`} tone={a.delta < -0.01 ? 'bad' : 'good'}
      value={isFraction ? `${a.delta >= 0 ? '+' : ''}${(a.delta * 100).toFixed(2)} pts` : `${sig(a.quantized)} dB`}
      hint={isFraction ? `FP32 ${pct(a.fp32)} → ${pct(a.quantized)}` : undefined} />;
  }
  return <Card testId="accuracy-delta" title="Model accuracy delta" value={trust.canExecute ? (busy ? 'measuring…' : '—') : 'not measured'} hint={trust.canExecute ? undefined : 'needs a trusted workspace'} />;
}

function QuantizeLayer({ data, trust, busy }: { data: QuantizeLayerData; trust: TrustInfo; busy: string | null }): React.ReactElement {
  const [logY, setLogY] = usePersistedState('logY', false);
  const r = data.result;
  useRestoreState({ view: 'quantizeLayer', modelPath: data.modelPath, layer: data.layer, format: r.format });
  return (
    <div>
      <h1><span className="mono">{data.layer}</span> <span className="muted">({data.op})</span></h1>
      <div className="row muted" data-testid="choice">
        <span><span className="fmt">{r.format}</span> · {r.granularity} · {r.calibration}{r.bitsPerElement ? ` · ${sig(r.bitsPerElement, 3)} bits/weight` : ''}</span>
        {data.pending && data.configPath && <span className="tag" title="Recorded in the model's config as an override">pending override</span>}
      </div>
      <TrustBanner trust={trust} />
      <BusyBanner label={busy} />
      <div className="cards">
        <Card testId="sqnr" title="Weight SQNR" value={`${sig(r.sqnrDb, 3)} dB`} />
        <Card title="MSE" value={sig(r.mse)} />
        <Card title="Cosine" value={sig(r.cosine, 5)} />
        <Card title="Max |error|" value={sig(r.maxAbsError)} />
        <Card title="Clipped" value={pct(r.clipFraction)} />
        <AccuracyCard data={data} trust={trust} busy={busy} />
      </div>
      <div className="row">
        <h2 className="grow">Weight histogram with the {r.format} grid{r.clipRange ? ' and clip points' : ''}</h2>
        <YScaleToggle logY={logY} onChange={setLogY} />
      </div>
      <HistogramChart histogram={data.histogram} logY={logY} height={320} testId="weight-histogram"
        overlays={[{ label: r.format, color: 'var(--vscode-charts-orange)', ...(r.grid ? { grid: r.grid } : {}), ...(r.clipRange ? { clip: r.clipRange } : {}) }]} />
      <p className="muted" data-testid="grid-note">{r.grid ? `${r.grid.length} representable values (first scale group)` : ''}{r.clipRange ? `; clip range ${sig(r.clipRange[0])} … ${sig(r.clipRange[1])}` : ''}</p>
      {data.configPath && <p className="muted" data-testid="pending">Recorded as a pending override in <span className="mono">{data.configPath.split(/[\\/]/).pop()}</span>.</p>}
    </div>
  );
}

boot('quantizeLayer', QuantizeLayer);
