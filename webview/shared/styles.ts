// SPDX-License-Identifier: Apache-2.0
/**
 * The views' stylesheet. Every colour is a VS Code theme variable, so light, dark and high-contrast themes all
 * work; the sheet is added as a <style> carrying the page's script nonce (the CSP allows nothing else inline).
 */

const scriptNonce = typeof document !== 'undefined' ? (document.currentScript as { nonce?: string } | null)?.nonce : undefined;

const CSS = `
:root { color-scheme: light dark; }
body { margin: 0; padding: 0 12px 12px; color: var(--vscode-foreground); background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
h1 { font-size: 1.35em; font-weight: 600; margin: 12px 0 4px; }
h2 { font-size: 1.1em; font-weight: 600; margin: 14px 0 6px; }
h3 { font-size: 1em; font-weight: 600; margin: 10px 0 4px; }
.muted { color: var(--vscode-descriptionForeground); }
.mono { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 12px); }
.banner { padding: 6px 10px; margin: 8px 0; border-left: 3px solid var(--vscode-editorWarning-foreground);
  background: var(--vscode-textBlockQuote-background); }
.error { color: var(--vscode-errorForeground); }
.banner.error { border-left-color: var(--vscode-errorForeground); }
.row { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.grow { flex: 1 1 auto; min-width: 0; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 6px 16px; margin: 6px 0 10px; }
.summary .k { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
.summary .v { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.split { display: flex; gap: 12px; min-height: 0; }
.table-wrap { flex: 1 1 60%; min-width: 0; border: 1px solid var(--vscode-panel-border); }
.detail { flex: 0 0 32%; min-width: 240px; border: 1px solid var(--vscode-panel-border); padding: 4px 10px; overflow: auto; }
.thead, .trow { display: grid; align-items: center; }
.thead { position: sticky; top: 0; z-index: 1; background: var(--vscode-editor-background);
  border-bottom: 1px solid var(--vscode-panel-border); font-weight: 600; }
.thead > div { padding: 4px 6px; cursor: pointer; user-select: none; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.thead > div:hover { background: var(--vscode-list-hoverBackground); }
.trow > div { padding: 2px 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.trow { cursor: default; border-bottom: 1px solid transparent; }
.trow:hover { background: var(--vscode-list-hoverBackground); }
.trow.selected { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground); }
.trow:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.tag { display: inline-block; padding: 0 5px; margin-right: 3px; border-radius: 8px; font-size: 0.85em;
  background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
.sens { border-radius: 2px; padding: 0 4px; }
.fmt { font-family: var(--vscode-editor-font-family); color: var(--vscode-textLink-foreground); }
vscode-text-field.filter { min-width: 300px; }
vscode-text-field.invalid { --focus-border: var(--vscode-inputValidation-errorBorder, var(--vscode-errorForeground)); outline: 1px solid var(--focus-border); }
vscode-dropdown { min-width: 110px; }
vscode-dropdown.wide { min-width: 260px; max-width: 50vw; }
vscode-radio-group label[slot=label] { color: var(--vscode-descriptionForeground); }
.row.tight { gap: 6px; }
.busy vscode-progress-ring { width: 16px; height: 16px; }
#root > .row > vscode-progress-ring { width: 16px; height: 16px; }
/* the toolkit has no slider: the native range input, in the theme's button colour */
input.slider { accent-color: var(--vscode-button-background); min-width: 220px; }
table.kv { border-collapse: collapse; width: 100%; }
table.kv td, table.kv th { padding: 2px 6px; border-bottom: 1px solid var(--vscode-panel-border); text-align: left; }
table.kv td.num, table.kv th.num { text-align: right; }
.chart { width: 100%; height: 260px; }
.chart.small { height: 200px; }
.legend-swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 8px; margin: 8px 0; }
.card { border: 1px solid var(--vscode-panel-border); padding: 6px 10px; }
.card .v { font-size: 1.4em; font-weight: 600; font-variant-numeric: tabular-nums; }
.good { color: var(--vscode-charts-green); }
.bad { color: var(--vscode-charts-red); }
.recharts-cartesian-axis-tick-value, .recharts-text { fill: var(--vscode-descriptionForeground); }
.recharts-cartesian-grid line { stroke: var(--vscode-panel-border); }
.recharts-tooltip-wrapper .recharts-default-tooltip { background: var(--vscode-editorHoverWidget-background) !important;
  border-color: var(--vscode-editorHoverWidget-border) !important; color: var(--vscode-editorHoverWidget-foreground); }
.recharts-legend-item-text { color: var(--vscode-foreground) !important; }
`;

/** Add the stylesheet once (idempotent). */
export function installStyles(): void {
  if (document.getElementById('quantlens-styles')) return;
  const style = document.createElement('style');
  style.id = 'quantlens-styles';
  if (scriptNonce) style.nonce = scriptNonce;
  style.textContent = CSS;
  document.head.appendChild(style);
}

/** Theme colours for chart series, in a stable order. */
export const SERIES = ['var(--vscode-charts-blue)', 'var(--vscode-charts-orange)', 'var(--vscode-charts-purple)',
  'var(--vscode-charts-green)', 'var(--vscode-charts-yellow)', 'var(--vscode-charts-red)'] as const;

/** Background for a 0..1 score: transparent → the theme's red, mixed by score. */
export function heat(score: number): string {
  const pct = Math.round(Math.max(0, Math.min(1, score)) * 70);
  return `color-mix(in srgb, var(--vscode-charts-red) ${pct}%, transparent)`;
}
