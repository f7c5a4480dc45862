// SPDX-License-Identifier: Apache-2.0
/**
 * `--html FILE`: the analyze Report as ONE self-contained page — inline CSS and SVG, no script, no remote
 * resource (a CSP meta tag forbids any), every model-provided string escaped. Sections: model and run summary,
 * sensitivity chart per format (three methods side by side with ±SE), method agreement, timings, and a
 * per-layer table with statistics, tags and weight/activation histograms.
 */
import type { LayerReport, Report, ScoreWithError, TensorStats } from '../report';
import { type BarSeries, escapeHtml as esc, fmtNum, histogramSvg, logBarChartSvg } from './svg';

const CSS = `body{font:13px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d1d1f;max-width:1200px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f5f5f7;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#777}
.tag{display:inline-block;padding:0 6px;margin:1px 2px;border-radius:8px;background:#eef3fb;border:1px solid #c9d8f0;font-size:11px}
.tag.non-finite{background:#fde8e8;border-color:#f0b4b4}.warn{color:#a15c00}
svg text.tick{font-size:9px;fill:#555}svg text.lbl{font-size:10px;fill:#333}.layer{margin:10px 0 18px}
.hists{display:flex;gap:16px;flex-wrap:wrap}.hists figure{margin:0}.hists figcaption{font-size:11px;color:#555}`;

const METHOD_COLORS: Record<string, string> = { perturbation: '#3b7dd8', hessianTrace: '#e07b39', layerHessian: '#4caf50' };
const METHOD_NAMES: Record<string, string> = {
  perturbation: 'Perturbation (output change)', hessianTrace: 'Hessian trace Ω (HAWQ-V2)', layerHessian: 'Layer Hessian tr(ΔW H ΔWᵀ)',
};

const score = (s?: ScoreWithError) => (s ? `${fmtNum(s.value)}${s.stdError ? ` ± ${fmtNum(s.stdError)}` : ''}` : '—');

function statsCell(s?: TensorStats): string {
  if (!s) return '<span class="muted">—</span>';
  const bad = s.nanCount + s.infCount;
  return `[${fmtNum(s.min)}, ${fmtNum(s.max)}] μ ${fmtNum(s.mean)} σ ${fmtNum(s.std)}<br>kurt ${fmtNum(s.kurtosis)} · max/|med| ${fmtNum(s.maxOverMedian ?? NaN)}`
    + ` · >6σ ${fmtNum(s.beyond6Sigma)} · ch-ratio ${fmtNum(s.channelRangeRatio)}`
    + (bad ? `<br><span class="warn">${s.nanCount} NaN, ${s.infCount} Inf</span>` : '')
    + (s.denormalCount ? `<br><span class="muted">${s.denormalCount} denormal</span>` : '');
}

function formatsOf(r: Report): string[] {
  if (r.analysis?.formats.length) return r.analysis.formats;
  const set = new Set<string>();
  for (const l of r.layers) for (const m of Object.values(l.sensitivity ?? {})) {
    if (m && typeof m === 'object') for (const k of Object.keys(m)) set.add(k);
  }
  return [...set];
}

function sensitivityChart(layers: LayerReport[], format: string): string {
  const withS = layers.filter((l) => l.sensitivity);
  const series: BarSeries[] = (['perturbation', 'hessianTrace', 'layerHessian'] as const).map((m) => ({
    name: METHOD_NAMES[m], color: METHOD_COLORS[m], values: withS.map((l) => l.sensitivity?.[m]?.[format]),
  }));
  return logBarChartSvg(withS.map((l) => l.name), series, { title: `Sensitivity at ${format}` });
}

function layerSection(l: LayerReport, formats: string[]): string {
  const s = l.sensitivity;
  const tags = l.tags.map((t) => `<span class="tag ${esc(t.id)}" title="${esc(t.reason)}">${esc(t.id)}${t.suggestion ? ` → ${esc(t.suggestion)}` : ''}</span>`).join('');
  const rows = formats.map((f) => `<tr><td>${esc(f)}</td><td class="n">${score(s?.perturbation?.[f])}</td><td class="n">${score(s?.activationPerturbation?.[f])}</td>`
    + `<td class="n">${s?.top1Agreement?.[f] === undefined ? '—' : s.top1Agreement[f] === null ? 'n/a' : fmtNum(s.top1Agreement[f]!)}</td>`
    + `<td class="n">${score(s?.hessianTrace?.[f])}</td><td class="n">${score(s?.layerHessian?.[f])}</td></tr>`).join('');
  const na = Object.entries(s?.notApplicable ?? {}).map(([k, v]) => `<div class="muted">${esc(k)}: ${esc(v)}</div>`).join('');
  const hists = [
    l.weightHistogram ? `<figure>${histogramSvg(l.weightHistogram, { log: true, title: `${l.name} weights` })}<figcaption>weights (log counts)</figcaption></figure>` : '',
    l.activationHistogram ? `<figure>${histogramSvg(l.activationHistogram, { log: true, color: '#8a5cd0', title: `${l.name} input activation` })}<figcaption>input activation (log counts)</figcaption></figure>` : '',
  ].join('');
  return `<div class="layer"><h3 id="${esc(encodeURIComponent(l.name))}">${esc(l.name)} <span class="muted">${esc(l.op)}${l.weightShape ? ` · W [${l.weightShape.join('×')}]` : ''} · ${fmtNum(l.params)} params</span></h3>`
    + `<div>${tags || '<span class="muted">no tags</span>'}</div>`
    + `<table><tr><th>weights</th><th>input activation</th></tr><tr><td>${statsCell(l.weightStats)}</td><td>${statsCell(l.activationStats)}</td></tr></table>`
    + (s ? `<table><tr><th>format</th><th>perturbation W (${esc(s.perturbationMetric ?? '')})</th><th>perturbation A</th><th>top-1 agr.</th><th>Ω</th><th>layer Hessian</th></tr>${rows}</table>`
      + (s.trace ? `<div class="muted">Tr(H) = ${score(s.trace)} from ${s.traceProbes ?? '?'} Rademacher probes</div>` : '') : '')
    + na + `<div class="hists">${hists}</div></div>`;
}

/** The whole report page. */
export function renderReportHtml(r: Report): string {
  const formats = formatsOf(r);
  const a = r.analysis;
  const m = r.model;
  const summary = [
    ['model', esc(m.path)], ['sha256', `<code>${esc(m.sha256)}</code>`], ['parameters', fmtNum(m.params)], ['MACs', fmtNum(m.macs)],
    ['calibration', esc(a?.calibration ?? '—')], ['formats', esc(formats.join(', '))],
    ['output', a ? `${esc(a.output)} (${esc(a.outputKind)})` : '—'],
  ].map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('');
  const notApplicable = Object.entries(a?.notApplicable ?? {}).map(([k, v]) => `<li>${esc(k)}: ${esc(v)}</li>`).join('');
  const warnings = r.warnings.map((w) => `<li class="warn">${esc(w)}</li>`).join('');
  const agreement = Object.entries(r.agreement ?? {}).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="n">${fmtNum(v)}</td></tr>`).join('');
  const timings = Object.entries(r.timings).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="n">${(v / 1000).toFixed(2)} s</td></tr>`).join('');
  const shares = a?.timeShares ? `<p>onnxruntime ${(a.timeShares.onnxruntimeMs / 1000).toFixed(2)} s · engine ${(a.timeShares.engineMs / 1000).toFixed(2)} s · QuantLens ${(a.timeShares.oursMs / 1000).toFixed(2)} s</p>` : '';
  const analysed = r.layers.filter((l) => l.sensitivity || l.activationStats || l.weightStats);
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">`
    + `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`
    + `<meta name="viewport" content="width=device-width, initial-scale=1"><title>QuantLens — ${esc(m.path)}</title><style>${CSS}</style></head><body>`
    + `<h1>QuantLens analysis</h1><div class="muted">${esc(r.tool.name)} ${esc(r.tool.version)} · ${esc(r.command)} · ${esc(r.createdAt)}</div>`
    + `<h2>Summary</h2><table>${summary}</table>`
    + (notApplicable ? `<h3>Not applicable</h3><ul>${notApplicable}</ul>` : '')
    + (warnings ? `<h3>Warnings</h3><ul>${warnings}</ul>` : '')
    + formats.map((f) => `<h2>Sensitivity at ${esc(f)}</h2>${sensitivityChart(r.layers, f)}`).join('')
    + (agreement ? `<h2>Method agreement (Spearman ρ)</h2><table><tr><th>methods @ format</th><th>ρ</th></tr>${agreement}</table>` : '')
    + `<h2>Timings</h2><table>${timings}</table>${shares}`
    + `<h2>Layers</h2>${analysed.map((l) => layerSection(l, formats)).join('')}`
    + '</body></html>\n';
}
