// SPDX-License-Identifier: Apache-2.0
/** The selected layer's detail pane: shapes, statistics, weight histogram, tags, sensitivity, actions. */
import React from 'react';
import type { LayerReport, TensorStats } from '../../../analysis/report';
import { HistogramChart } from '../../shared/components/HistogramChart';
import { compact, shape, sig } from '../../shared/format';
import { VSCodeButton } from '../../shared/toolkit';

function StatsTable({ title, s }: { title: string; s: TensorStats }): React.ReactElement {
  const rows: [string, string][] = [
    ['count', compact(s.count)], ['min … max', `${sig(s.min)} … ${sig(s.max)}`], ['mean ± std', `${sig(s.mean)} ± ${sig(s.std)}`],
    ['kurtosis', sig(s.kurtosis)], ['beyond 6σ', sig(s.beyond6Sigma)], ['zeros', sig(s.zeroFraction)],
    ['channel range ratio', sig(s.channelRangeRatio)],
  ];
  if (s.maxOverMedian !== undefined) rows.push(['max / median |x|', sig(s.maxOverMedian)]);
  if (s.nanCount || s.infCount) rows.push(['NaN / Inf', `${s.nanCount} / ${s.infCount}`]);
  if (s.outlierChannels?.length) rows.push(['outlier channels', s.outlierChannels.slice(0, 12).join(', ') + (s.outlierChannels.length > 12 ? ' …' : '')]);
  return (
    <>
      <h3>{title}</h3>
      <table className="kv"><tbody>{rows.map(([k, v]) => <tr key={k}><td className="muted">{k}</td><td className="num mono">{v}</td></tr>)}</tbody></table>
    </>
  );
}

function SensitivityTable({ layer }: { layer: LayerReport }): React.ReactElement | null {
  const s = layer.sensitivity;
  if (!s) return null;
  const methods = [['perturbation', s.perturbation], ['Hessian trace', s.hessianTrace], ['layer Hessian', s.layerHessian]] as const;
  const formats = [...new Set(methods.flatMap(([, t]) => Object.keys(t ?? {})))];
  if (formats.length === 0) return null;
  return (
    <>
      <h3>Sensitivity</h3>
      <table className="kv" data-testid="sensitivity-table">
        <thead><tr><th>format</th>{methods.map(([m]) => <th key={m} className="num">{m}</th>)}</tr></thead>
        <tbody>{formats.map((f) => (
          <tr key={f}><td className="fmt">{f}</td>{methods.map(([m, t]) => <td key={m} className="num mono">{t?.[f] ? sig(t[f].value) + (t[f].stdError ? ` ±${sig(t[f].stdError, 2)}` : '') : ''}</td>)}</tr>
        ))}</tbody>
      </table>
    </>
  );
}

export function LayerDetail(props: { layer: LayerReport | undefined; canExecute: boolean; onQuantize(name: string): void; onHistogram(name: string): void }): React.ReactElement {
  const l = props.layer;
  if (!l) return <div className="detail muted" data-testid="layer-detail">Select a layer to see its details.</div>;
  return (
    <div className="detail" data-testid="layer-detail">
      <h2 className="mono" style={{ wordBreak: 'break-all' }} data-testid="detail-name">{l.name}</h2>
      <div className="muted">{l.op}{l.format?.weights ? ` · weights ${l.format.weights}` : ''}{l.format?.activations ? ` · activations ${l.format.activations}` : ''}</div>
      <div className="row" style={{ margin: '8px 0' }}>
        {l.weightShape && <VSCodeButton onClick={() => props.onQuantize(l.name)} data-testid="detail-quantize">Quantize Layer…</VSCodeButton>}
        <VSCodeButton appearance="secondary" onClick={() => props.onHistogram(l.name)} disabled={!props.canExecute} data-testid="detail-histogram-button"
          title={props.canExecute ? 'Activation histogram of this layer’s output' : 'Needs a trusted workspace (runs the model)'}>Activation histogram</VSCodeButton>
      </div>
      <table className="kv"><tbody>
        <tr><td className="muted">inputs</td><td className="mono">{l.inputShapes.map((s) => shape(s)).join(', ')}</td></tr>
        <tr><td className="muted">outputs</td><td className="mono">{l.outputShapes.map((s) => shape(s)).join(', ')}</td></tr>
        {l.weightShape && <tr><td className="muted">weight</td><td className="mono">{shape(l.weightShape)}</td></tr>}
        <tr><td className="muted">params</td><td className="num">{compact(l.params)}</td></tr>
        <tr><td className="muted">MACs</td><td className="num">{compact(l.macs)}</td></tr>
      </tbody></table>
      {l.tags.length > 0 && (<><h3>Tags</h3><ul style={{ margin: 0, paddingLeft: 18 }}>{l.tags.map((t) => (
        <li key={t.id}><span className="tag">{t.id}</span> {t.reason}{t.suggestion ? <> — try <span className="fmt">{t.suggestion}</span></> : null}</li>
      ))}</ul></>)}
      {l.weightHistogram && (<><h3>Weight histogram</h3><HistogramChart histogram={l.weightHistogram} height={180} testId="detail-histogram" /></>)}
      {l.weightStats && <StatsTable title="Weights" s={l.weightStats} />}
      {l.activationStats && <StatsTable title="Output activations" s={l.activationStats} />}
      <SensitivityTable layer={l} />
    </div>
  );
}
