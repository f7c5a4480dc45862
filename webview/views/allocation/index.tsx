// SPDX-License-Identifier: Apache-2.0
/** Entry of dist/webview/allocation.js: sensitivity (three methods + agreement), budget, Pareto frontier, suggestion. */
import React, { useEffect, useMemo, useRef, useState } from 'react';
import { Bar, BarChart, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Scatter, Tooltip, XAxis, YAxis } from 'recharts';
import type { AllocationData, BudgetKindName, TrustInfo } from '../../protocol';
import { RpcError } from '../../protocol';
import { BusyBanner, Card, ErrorBanner, TrustBanner } from '../../shared/components/Banners';
import { compact, sig } from '../../shared/format';
import { getHost } from '../../shared/host';
import { useInitialRestoreState, usePersistedState, useRestoreState } from '../../shared/hooks';
import { boot } from '../../shared/boot';
import { SERIES } from '../../shared/styles';
import { radioGroupValue } from '../../shared/components/YScale';
import { type ControlEvent, valueOf, VSCodeButton, VSCodeDropdown, VSCodeOption, VSCodeRadio, VSCodeRadioGroup, VSCodeTextField } from '../../shared/toolkit';

const METHODS = [['perturbation', 'perturbation'], ['hessianTrace', 'Hessian trace'], ['layerHessian', 'layer Hessian']] as const;
const KIND_LABELS: Record<BudgetKindName, string> = { 'avg-bits': 'average weight bits', 'size-mb': 'weight size (MB)', bops: 'BOPs', 'latency-ms': 'latency (ms)' };

/** Each method's scores normalised to its own maximum, so methods with different units sit side by side. */
export function sensitivityBars(data: AllocationData, format: string): Record<string, number | string>[] {
  const max: Record<string, number> = {};
  for (const [m] of METHODS) max[m] = Math.max(0, ...data.sensitivity.map((s) => s.sensitivity[m]?.[format]?.value ?? 0));
  return data.sensitivity.map((s) => {
    const row: Record<string, number | string> = { layer: s.layer };
    for (const [m] of METHODS) { const v = s.sensitivity[m]?.[format]?.value; if (v !== undefined && max[m] > 0) row[m] = v / max[m]; }
    return row;
  });
}

/** The budget number, typed into a toolkit text field: a number inside the limits, else null (Allocate is disabled). */
function BudgetField({ value, limits, onChange }: { value: number; limits: { min: number; max: number }; onChange(v: number | null): void }): React.ReactElement {
  const [text, setText] = useState(String(value));
  useEffect(() => { setText((t) => (Number(t) === value ? t : String(value))); }, [value]);
  const parse = (t: string): number | null => { const n = Number(t); return t.trim() !== '' && Number.isFinite(n) && n >= limits.min && n <= limits.max ? n : null; };
  const ok = parse(text) !== null;
  return (
    <VSCodeTextField value={text} data-testid="budget-value" aria-label="budget value" inputMode="decimal" size={10}
      className={ok ? '' : 'invalid'} aria-invalid={!ok} title={ok ? undefined : `a number from ${sig(limits.min, 3)} to ${sig(limits.max, 3)}`}
      onInput={(e: ControlEvent) => { const t = valueOf(e); setText(t); onChange(parse(t)); }} />
  );
}

const BUDGET_KINDS = ['avg-bits', 'size-mb', 'bops'] as const;

function Allocation({ data, trust, busy }: { data: AllocationData; trust: TrustInfo; busy: string | null }): React.ReactElement {
  const host = getHost();
  // the allocation on screen: the host's data, then each Allocate result
  const [shown, setShown] = useState(data);
  useEffect(() => setShown(data), [data]);
  const [kind, setKind] = usePersistedState<BudgetKindName>('kind', data.budget.kind);
  const [value, setValue] = usePersistedState<number>('value', data.budget.value);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const formats = useMemo(() => [...new Set(shown.sensitivity.flatMap((s) => Object.keys(s.sensitivity.perturbation ?? {})))], [shown]);
  const [format, setFormat] = usePersistedState('sensFormat', formats.includes('int4') ? 'int4' : formats[0] ?? 'int8');
  const bars = useMemo(() => sensitivityBars(shown, format), [shown, format]);
  const limits = shown.budgetLimits[kind];
  const [typedInvalid, setTypedInvalid] = useState(false);
  const valid = !typedInvalid && value >= limits.min && value <= limits.max;
  const setBudget = (v: number | null): void => { setTypedInvalid(v === null); if (v !== null) setValue(v); };

  const call = <T,>(label: string, p: Promise<T>, done: (r: T) => void): void => {
    setError(null); setPending(label);
    p.then(done).catch((e: unknown) => { if (!(e instanceof RpcError && e.kind === 'cancelled')) setError((e as Error).message); }).finally(() => setPending(null));
  };
  const show = (r: AllocationData): void => setShown(r);

  // after a window reload the host restores the panel at its default budget: ask again for the budget shown before
  const restored = useInitialRestoreState();
  const asked = useRef(false);
  useEffect(() => {
    const b = restored?.view === 'allocation' ? restored.budget : undefined;
    if (asked.current || !b || !trust.canExecute || (b.kind === data.budget.kind && b.value === data.budget.value)) return;
    asked.current = true;
    call('Allocating', host.rpc.request('allocate', b), show);
  }, [data, restored, trust.canExecute]);
  useRestoreState({ view: 'allocation', modelPath: shown.modelPath, budget: shown.budget });

  const chosen = shown.pareto.find((p) => p.chosen);
  const fmtCost = (c: number): string => (shown.budget.kind === 'avg-bits' ? sig(c, 3) : compact(c));

  return (
    <div>
      <h1>Sensitivity &amp; bit allocation</h1>
      <TrustBanner trust={trust} />
      <BusyBanner label={pending ?? busy} />
      <ErrorBanner error={error} />
      {shown.warnings?.map((w, i) => <div key={i} className="banner">{w}</div>)}

      <div className="row"><h2 className="grow">Per-layer sensitivity (each method scaled to its maximum)</h2>
        <label className="row tight">format
          <VSCodeDropdown value={format} onChange={(e: ControlEvent) => { const v = valueOf(e); if (v) setFormat(v); }} data-testid="sensitivity-format" position="below">
            {formats.map((f) => <VSCodeOption key={f} value={f} selected={f === format}>{f}</VSCodeOption>)}
          </VSCodeDropdown></label></div>
      <div className="chart" data-testid="sensitivity-chart">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={bars} margin={{ top: 4, right: 16, bottom: 4, left: 4 }}>
            <CartesianGrid strokeDasharray="2 4" />
            <XAxis dataKey="layer" tick={false} />
            <YAxis domain={[0, 1]} width={40} />
            <Tooltip isAnimationActive={false} formatter={(v: number) => sig(v, 3)} />
            <Legend />
            {METHODS.map(([m, label], i) => <Bar key={m} dataKey={m} name={label} fill={SERIES[i]} isAnimationActive={false} />)}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <p className="muted" data-testid="agreement">Agreement (Spearman rank correlation): {Object.keys(shown.agreement).length
        ? Object.entries(shown.agreement).map(([k, v]) => `${k.replace('~', ' vs ')} ${sig(v, 2)}`).join(' · ') : 'needs at least two methods'}</p>

      <h2>Budget</h2>
      <VSCodeRadioGroup value={kind} data-testid="budget-kind" aria-label="budget kind"
        onChange={(e: ControlEvent) => { const k = radioGroupValue(e) as BudgetKindName | undefined; if (k && k !== kind && k in shown.budgetLimits) { setKind(k); setBudget(shown.budgetLimits[k].max); } }}>
        {BUDGET_KINDS.map((k) => <VSCodeRadio key={k} value={k}>{KIND_LABELS[k]}</VSCodeRadio>)}
      </VSCodeRadioGroup>
      <div className="row">
        {/* the toolkit has no slider: the one native control, in the theme's button colour */}
        <input type="range" className="slider" min={limits.min} max={limits.max} step={limits.step} value={value} onChange={(e) => setBudget(Number(e.target.value))} aria-label="budget" />
        <BudgetField value={value} limits={limits} onChange={setBudget} />
        <VSCodeButton disabled={!trust.canExecute || pending !== null || !valid} data-testid="allocate"
          onClick={() => call('Allocating', host.rpc.request('allocate', { kind, value }), show)}>Allocate</VSCodeButton>
      </div>

      <div className="cards">
        <Card title="Average weight bits" value={sig(shown.predicted?.avgWeightBits, 3)} />
        <Card title="Weight size" value={`${sig(shown.predicted?.sizeMB, 3)} MB`} />
        <Card title="Predicted loss (sum of sensitivities)" value={sig(shown.predicted?.loss, 3)} />
        {shown.measured && <Card testId="measured-delta" title={`Measured ${shown.measured.metric} delta`} tone={shown.measured.delta < -0.01 ? 'bad' : 'good'}
          value={`${shown.measured.delta >= 0 ? '+' : ''}${(shown.measured.delta * 100).toFixed(2)} pts`} hint={`FP32 ${sig(shown.measured.fp32, 4)} → ${sig(shown.measured.quantized, 4)}`} />}
      </div>

      <h2>Pareto frontier <span className="muted">(cost: {KIND_LABELS[shown.budget.kind]}; predicted loss and measured delta)</span></h2>
      <div className="chart" data-testid="pareto-chart">
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={[...shown.pareto].sort((a, b) => a.cost - b.cost)} margin={{ top: 4, right: 16, bottom: 4, left: 4 }}>
            <CartesianGrid strokeDasharray="2 4" />
            <XAxis dataKey="cost" type="number" domain={['auto', 'auto']} tickFormatter={fmtCost} />
            <YAxis yAxisId="loss" width={52} tickFormatter={(v: number) => sig(v, 2)} />
            <YAxis yAxisId="delta" orientation="right" width={52} tickFormatter={(v: number) => `${(v * 100).toFixed(1)}`} />
            <Tooltip isAnimationActive={false} formatter={(v: number, n: string) => [n === 'measured Δ (pts)' ? (v * 100).toFixed(2) : sig(v, 3), n]} labelFormatter={(c: number) => fmtCost(c)} />
            <Legend />
            <Line yAxisId="loss" dataKey="loss" name="predicted loss" stroke={SERIES[0]} isAnimationActive={false} dot />
            <Line yAxisId="delta" dataKey="measuredDelta" name="measured Δ (pts)" stroke={SERIES[1]} isAnimationActive={false} dot />
            {chosen && <Scatter yAxisId="loss" data={[chosen]} dataKey="loss" name="chosen" fill="var(--vscode-charts-red)" isAnimationActive={false} />}
          </ComposedChart>
        </ResponsiveContainer>
      </div>

      <div className="row"><h2 className="grow">Suggested formats</h2>
        <VSCodeButton disabled={!trust.canExecute || pending !== null} data-testid="apply"
          onClick={() => call('Writing the config', host.rpc.request('applyAllocation', {}), (r) => setNote(`Wrote ${r.configPath}`))}>Apply</VSCodeButton>
        <VSCodeButton appearance="secondary" disabled={!trust.canExecute || pending !== null} data-testid="export"
          onClick={() => call('Exporting', host.rpc.request('exportQdq', {}), (r) => setNote('path' in r ? `Exported ${r.path}` : 'Export cancelled'))}>Export QDQ model</VSCodeButton>
      </div>
      {note && <p className="muted" data-testid="note">{note}</p>}
      <table className="kv" data-testid="allocation-table">
        <thead><tr><th>layer</th><th>op</th><th>format</th><th className="num">bits</th><th className="num">predicted Δ (sensitivity)</th><th className="num">measured SQNR</th></tr></thead>
        <tbody>{shown.rows.map((r) => (
          <tr key={r.layer}><td className="mono">{r.layer}</td><td>{r.op}</td><td className="fmt">{r.format ?? 'fp32'}</td><td className="num">{r.bits}</td>
            <td className="num mono">{sig(r.predictedDelta)}</td><td className="num mono">{r.measuredSqnrDb === undefined ? '' : `${sig(r.measuredSqnrDb, 3)} dB`}</td></tr>
        ))}</tbody>
      </table>
    </div>
  );
}

boot('allocation', Allocation);
