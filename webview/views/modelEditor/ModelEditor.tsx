// SPDX-License-Identifier: Apache-2.0
/** The model editor: summary, filterable layer table and the selected layer's detail pane. */
import React, { useEffect, useMemo, useState } from 'react';
import type { ModelEditorData, TrustInfo } from '../../protocol';
import { RpcError } from '../../protocol';
import { BusyBanner, ErrorBanner, TrustBanner } from '../../shared/components/Banners';
import { bytes, compact, shape } from '../../shared/format';
import { getHost } from '../../shared/host';
import { usePersistedState } from '../../shared/hooks';
import { type ControlEvent, valueOf, VSCodeButton, VSCodeTextField } from '../../shared/toolkit';
import { LayerDetail } from './LayerDetail';
import { LayerTable } from './LayerTable';
import { buildRows, filterAndSort, type SortState } from './layerRows';

function Summary({ data }: { data: ModelEditorData }): React.ReactElement {
  const m = data.report.model;
  const items: [string, string][] = [
    ['Producer', m.producer || '—'], ['Opsets', Object.entries(m.opsets).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ')],
    ['Nodes', compact(m.nodeCount)], ['Parameters', compact(m.params)], ['MACs', compact(m.macs)], ['File size', bytes(m.sizeBytes)],
    ['Inputs', m.inputs.map((i) => `${i.name} ${shape(i.shape)}`).join(', ')], ['Outputs', m.outputs.map((o) => `${o.name} ${shape(o.shape)}`).join(', ')],
  ];
  return (
    <div className="summary" data-testid="summary">
      {items.map(([k, v]) => <div key={k}><div className="k">{k}</div><div className="v" title={v}>{v}</div></div>)}
    </div>
  );
}

export function ModelEditor({ data, trust }: { data: ModelEditorData; trust: TrustInfo }): React.ReactElement {
  const host = getHost();
  const [query, setQuery] = usePersistedState('query', '');
  const [sort, setSort] = usePersistedState<SortState>('sort', { key: 'index', desc: false });
  const [selected, setSelected] = usePersistedState<string | null>('selected', null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [abort, setAbort] = useState<AbortController | null>(null);

  const rows = useMemo(() => buildRows(data.report.layers), [data.report]);
  const visible = useMemo(() => filterAndSort(rows, query, sort), [rows, query, sort]);
  const layer = useMemo(() => data.report.layers.find((l) => l.name === selected), [data.report, selected]);

  useEffect(() => host.on('selection', (m) => { if (m.layer !== null) setSelected(m.layer); }), [host, setSelected]);
  useEffect(() => host.on('busy', (m) => setBusy(m.label)), [host]);

  const select = (name: string): void => { setSelected(name); host.post({ type: 'selectLayer', layer: name }); };
  const call = (p: Promise<unknown>): void => { setError(null); p.catch((e: unknown) => { if (!(e instanceof RpcError && e.kind === 'cancelled')) setError((e as Error).message); }); };
  const analyse = (): void => {
    const ac = new AbortController();
    setAbort(ac);
    call(host.rpc.request('analyze', {}, { signal: ac.signal, onProgress: (f, m) => setBusy(`${m} (${Math.round(f * 100)}%)`) })
      .finally(() => { setAbort(null); setBusy(null); }));
  };

  const m = data.report.model;
  return (
    <div style={{ display: 'flex', flexDirection: 'column', height: '100vh' }}>
      <div className="row">
        <h1 className="grow mono" title={m.path}>{m.path.split(/[\\/]/).pop()}</h1>
        <VSCodeButton appearance={data.analysed ? 'secondary' : 'primary'} onClick={analyse} disabled={!trust.canExecute || abort !== null} data-testid="analyse"
          title={trust.canExecute ? 'Calibrate activations and measure sensitivity (runs the model)' : trust.reason}>
          {data.analysed ? 'Re-analyse' : 'Analyse activations & sensitivity'}</VSCodeButton>
        <VSCodeButton appearance="secondary" onClick={() => call(host.rpc.request('openPanel', { panel: 'allocation' }))} disabled={!trust.canExecute} data-testid="open-allocation">Sensitivity & allocation</VSCodeButton>
        <VSCodeButton appearance="secondary" onClick={() => call(host.rpc.request('openPanel', { panel: 'accuracy' }))} disabled={!trust.canExecute} data-testid="open-accuracy">Accuracy delta</VSCodeButton>
      </div>
      <TrustBanner trust={trust} />
      <BusyBanner label={busy} onCancel={abort ? () => abort.abort() : undefined} />
      <ErrorBanner error={error} />
      {data.report.warnings.length > 0 && <details className="banner"><summary>{data.report.warnings.length} warning(s)</summary><ul>{data.report.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul></details>}
      <Summary data={data} />
      <div className="row" style={{ marginBottom: 6 }}>
        <VSCodeTextField className="filter" placeholder="Filter layers (name, op:Conv, tag:heavy)…" value={query} onInput={(e: ControlEvent) => setQuery(valueOf(e))} data-testid="filter" aria-label="Filter layers" />
        <span className="muted" data-testid="row-count">{visible.length} of {rows.length} layers</span>
        {data.configPath && <span className="muted">config: <span className="mono">{data.configPath.split(/[\\/]/).pop()}</span></span>}
      </div>
      <div className="split" style={{ flex: '1 1 auto' }}>
        <LayerTable rows={visible} sort={sort} onSort={setSort} selected={selected} onSelect={select} canExecute={trust.canExecute} />
        <LayerDetail layer={layer} canExecute={trust.canExecute}
          onQuantize={(name) => call(host.rpc.request('quantizeLayer', { layer: name }))}
          onHistogram={(name) => call(host.rpc.request('openPanel', { panel: 'histogram', layer: name }))} />
      </div>
    </div>
  );
}
