// SPDX-License-Identifier: Apache-2.0
/**
 * What the commands and the webviews ask for: analyse, Quantize Layer…, the histogram panel, export. Long work
 * runs with progress and cancellation; whole-model work (analysis, accuracy, allocation, export) runs in the
 * analysis worker (analysis/jobs, see workerJobs.ts), so the extension host stays responsive; only the one-layer
 * weight quantization and the activation histogram (onnxruntime, off-thread natively) run on the host. Nothing
 * here executes a model in an untrusted workspace.
 */
import * as vscode from 'vscode';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { FORMATS } from '../analysis/quant/formats';
import { presetConfig } from '../analysis/presets';
import type { TensorQuantSpec } from '../analysis/config/types';

// Loaded on first use: these pull in onnxruntime and the engine, which activation must not load.
const layerAnalysis = (): Promise<typeof LayerAnalysis> => import('./layerAnalysis.js');
const allocationActions = (): Promise<typeof AllocationActions> => import('./allocationActions.js');
import type { FormatChoice, HistogramData, QuantizeLayerData } from '../webview/protocol';
import { QuantLensError } from '../engine/errors';
import type { QuantConfig } from '../analysis/config/types';
import type { AllocationData, BudgetKindName } from '../webview/protocol';
import { configPathFor, recordLayerOverride } from './configStore';
import { dataFor, openSources } from './dataSources';
import { Disposable } from './dispose';
import { checkCancelled, runJob } from './jobs';
import type * as LayerAnalysis from './layerAnalysis';
import type * as AllocationActions from './allocationActions';
import { log } from './log';
import type { OnnxModelDocument } from './modelDocument';
import type { ModelRegistry } from './modelRegistry';
import type { PanelManager } from './panels';
import { getSettings } from './settings';
import { requireTrust } from './trust';
import { inWorker } from './workerJobs';

/** The formats the pickers offer, from the one format table. */
export function formatChoices(): FormatChoice[] {
  return Object.values(FORMATS).map((f) => ({ id: f.id, label: f.description, bits: f.bits, family: f.family, hasKernel: f.engineKernel === 'int' }));
}

export class Actions extends Disposable {
  private readonly _onDidChangeBusy = this._register(new vscode.EventEmitter<{ document: OnnxModelDocument; label: string | null }>());
  /** A document's long work started (label) or ended (null). */
  public readonly onDidChangeBusy = this._onDidChangeBusy.event;

  constructor(private readonly extensionUri: vscode.Uri, private readonly registry: ModelRegistry, private readonly panels: PanelManager) {
    super();
  }

  /** Calibrate activations and measure sensitivity in the analysis worker; merges the result into the document. */
  async analyze(doc: OnnxModelDocument, outer?: AbortSignal): Promise<void> {
    requireTrust('Analysing a model');
    const s = getSettings(doc.uri);
    const dir = path.dirname(doc.path);
    const data = [s.calibrationData, path.join(dir, 'data', 'calib')].find((d) => d && existsSync(d));
    this._onDidChangeBusy.fire({ document: doc, label: 'Analysing' });
    try {
      const { report } = await runJob(`Analysing ${path.basename(doc.path)}`, (ctx) => inWorker(this.extensionUri,
        { kind: 'analyze', model: doc.path, sha256: doc.sha256, options: { ...(data ? { data } : { random: s.sampleCount }), formats: s.sensitivityFormats } }, ctx), { outer });
      doc.setAnalysis(report);
    } finally {
      this._onDidChangeBusy.fire({ document: doc, label: null });
    }
  }

  /**
   * Quantize Layer…: quick picks of format, granularity and calibration (unless given), then the panel with
   * the weight histogram, grid, clip points and error metrics, then the accuracy delta measured on the engine.
   * The choice is recorded as an override in the model's config. Returns false when the user cancelled a pick.
   */
  async quantizeLayer(doc: OnnxModelDocument, layer: string, preset: { format?: string; granularity?: string; calibration?: string } = {}): Promise<boolean> {
    const l = doc.layer(layer);
    if (!l) throw new Error(`no layer named '${layer}' in ${doc.path}`);
    const spec = await pickSpec(l.op, preset, getSettings(doc.uri).defaultWeightFormat);
    if (!spec) return false;
    const { accuracyDelta, quantizeLayerWeights, singleLayerConfig } = await layerAnalysis();
    const weights = quantizeLayerWeights(doc, layer, spec);
    const recorded = recordLayerOverride(doc.path, doc.sha256, layer, spec);
    doc.reloadConfig();
    log().info(`Quantize Layer: ${layer} → ${spec.format} (${weights.result.granularity}, ${weights.result.calibration}), SQNR ${weights.result.sqnrDb.toFixed(2)} dB; recorded in ${recorded.path}`);
    let data: QuantizeLayerData = { view: 'quantizeLayer', modelPath: doc.path, layer, op: l.op, result: weights.result, histogram: weights.histogram, configPath: recorded.path, pending: true };
    const panel = this.panels.show('quantizeLayer', doc, data, {});
    this.registry.select(doc, layer, 'quantizeLayer');
    if (!vscode.workspace.isTrusted) return true; // weights only: measuring accuracy executes the model
    const ac = new AbortController();
    const sub = panel.onDidDispose(() => ac.abort());
    panel.connection.busy('Measuring the accuracy delta on the engine');
    try {
      const e = await runJob(`Accuracy with ${layer} at ${spec.format}`, async (ctx) => {
        ctx.progress(0.1, 'calibrating and running the FP32 reference');
        const { eval: ev } = await inWorker(this.extensionUri, { kind: 'evaluate', model: doc.path, sha256: doc.sha256, config: singleLayerConfig(doc, layer, spec), data: dataFor(doc).data, perLayer: false }, ctx);
        checkCancelled(ctx.signal, 'accuracy');
        return ev;
      }, { outer: ac.signal });
      data = { ...data, result: { ...data.result, accuracyDelta: accuracyDelta(e) } };
      panel.connection.setData(data);
    } catch { /* reported by runJob */ } finally {
      sub.dispose();
      if (!panel.isDisposed) panel.connection.busy(null);
    }
    return true;
  }

  /** The activation histogram panel for `layer` (or the selected layer), following the editor's selection. */
  async showHistogram(doc: OnnxModelDocument, layer: string | undefined): Promise<void> {
    requireTrust('The activation histogram');
    const layers = doc.report.layers.map((l) => l.name);
    const start = layer ?? this.registry.selectedLayer(doc) ?? layers[0] ?? null;
    const base: HistogramData = { view: 'histogram', modelPath: doc.path, layers, layer: start, follow: true, formats: formatChoices(), selectedFormats: defaultActivationFormats(doc, start) };
    const sources = openSources(doc);
    const { activationHistogram } = await layerAnalysis();
    const panel = this.panels.show('histogram', doc, base, {
      activationHistogram: (p, ctx) => runJob(`Activation histogram of ${p.layer}`, (j) => activationHistogram(doc, p.layer, p.formats, sources, j.signal), { outer: ctx.signal, quiet: true, inStatusBar: true }),
    });
    if (!panel.isDisposed && !this.histogramFollowers.has(panel)) {
      this.histogramFollowers.add(panel);
      const sub = this.registry.onDidChangeSelection(({ document, layer: l, source }) => {
        if (document === doc && l && source !== 'histogram') panel.connection.select(l);
      });
      panel.onDidDispose(() => { sub.dispose(); this.histogramFollowers.delete(panel); });
    }
  }

  private readonly histogramFollowers = new Set<unknown>();

  /** Open one of the panels for a model. */
  async openPanel(doc: OnnxModelDocument, panel: 'histogram' | 'allocation' | 'accuracy', layer?: string): Promise<void> {
    if (panel === 'histogram') return this.showHistogram(doc, layer);
    if (panel === 'accuracy') return this.showAccuracy(doc);
    return this.showAllocation(doc);
  }

  /** The sensitivity & allocation view: analyses first when needed, then allocates under the default budget. */
  async showAllocation(doc: OnnxModelDocument): Promise<void> {
    requireTrust('Allocation');
    if (!doc.analysed) await this.analyze(doc);
    const { data: samples } = dataFor(doc);
    const { allocationView, applyConfig, exportQdqModel, suggestJob } = await allocationActions();
    let current: { data: AllocationData; config: QuantConfig } | undefined;
    const run = (budget: { kind: BudgetKindName; value: number }, outer?: AbortSignal): Promise<AllocationData> =>
      runJob(`Allocating bits for ${path.basename(doc.path)}`, async (ctx) => {
        const { suggest } = await inWorker(this.extensionUri, suggestJob(doc, samples, budget), ctx);
        current = allocationView(doc, suggest, budget, current?.data);
        return current.data;
      }, { outer });
    const data = await run({ kind: 'avg-bits', value: 4 });
    this.panels.show('allocation', doc, data, {
      allocate: (p, ctx) => run({ kind: p.kind, value: p.value }, ctx.signal),
      applyAllocation: async () => {
        if (!current) throw new Error('no allocation yet');
        const file = await applyConfig(doc, current.config);
        if (!file) throw new QuantLensError('cancelled', 'not applied');
        current.data = { ...current.data, configPath: file };
        return { configPath: file };
      },
      exportQdq: async (_p, ctx) => {
        if (!current) throw new Error('no allocation yet');
        const config = current.config;
        const file = await runJob('Exporting QDQ model', (j) => exportQdqModel(doc, config, samples, (job) => inWorker(this.extensionUri, job, j), j.signal), { outer: ctx.signal });
        if (!file) return { cancelled: true as const };
        void vscode.window.showInformationMessage(`QuantLens: wrote ${vscode.workspace.asRelativePath(file)}`);
        return { path: file };
      },
    });
  }

  /** Export a QDQ model for the model's config (Export QDQ Model… command). */
  async exportQdq(doc: OnnxModelDocument): Promise<void> {
    requireTrust('Exporting (calibrates activations by running the model)');
    const cfg = doc.config;
    if (!cfg) throw new QuantLensError('config', `${configPathFor(doc.path)}: no config yet; use Quantize Layer… or Apply in the allocation view first`, configPathFor(doc.path));
    const { exportQdqModel } = await allocationActions();
    const file = await runJob('Exporting QDQ model', (j) => exportQdqModel(doc, cfg.config, dataFor(doc).data, (job) => inWorker(this.extensionUri, job, j), j.signal));
    if (file) void vscode.window.showInformationMessage(`QuantLens: wrote ${vscode.workspace.asRelativePath(file)}`);
  }

  /** Accuracy delta of the model's config (or the w8a8 preset when it has none), measured on the engine. */
  async showAccuracy(doc: OnnxModelDocument): Promise<void> {
    requireTrust('Measuring accuracy');
    const cfg = doc.config;
    const config = cfg?.config ?? presetConfig('w8a8', { path: doc.path, sha256: doc.sha256 });
    const configLabel = cfg ? path.basename(cfg.path) : 'preset w8a8 (no config next to the model yet)';
    const { eval: e } = await runJob(`Accuracy of ${path.basename(doc.path)} (${configLabel})`, (ctx) =>
      inWorker(this.extensionUri, { kind: 'evaluate', model: doc.path, sha256: doc.sha256, config, data: dataFor(doc).data, perLayer: true }, ctx));
    this.panels.show('accuracy', doc, { view: 'accuracy', modelPath: doc.path, configLabel, eval: e }, {});
  }
}

/** Log/Tan grids suit attention probabilities (Softmax outputs); INT8 and FP8 otherwise. */
function defaultActivationFormats(doc: OnnxModelDocument, layer: string | null): string[] {
  const op = layer ? doc.layer(layer)?.op : undefined;
  return op === 'Softmax' ? ['log2', 'tan', 'uint8'] : ['int8', 'fp8_e4m3'];
}

/** The three quick picks; undefined when the user dismissed one. */
async function pickSpec(op: string, preset: { format?: string; granularity?: string; calibration?: string }, defaultFormat: string): Promise<TensorQuantSpec | undefined> {
  let format = preset.format;
  if (!format) {
    const items = Object.values(FORMATS).map((f) => ({ label: f.id, description: `${f.bits}-bit ${f.family}${f.engineKernel === 'int' ? ' · integer kernel' : ''}`, detail: f.description, picked: f.id === defaultFormat }));
    items.sort((a, b) => (a.label === defaultFormat ? -1 : b.label === defaultFormat ? 1 : 0));
    format = (await vscode.window.showQuickPick(items, { title: `Quantize Layer (${op}): format`, placeHolder: 'Weight format', matchOnDescription: true, matchOnDetail: true, ignoreFocusOut: true }))?.label;
    if (!format) return undefined;
  }
  let granularity = preset.granularity;
  if (!granularity) {
    const f = FORMATS[format];
    const dflt = f?.defaultGranularity === 'group' ? `group:${f.blockSize ?? 32}` : f?.defaultGranularity ?? 'channel';
    const options = [...new Set([dflt, 'channel', 'tensor', 'group:32', 'group:128'])];
    granularity = (await vscode.window.showQuickPick(options.map((g) => ({ label: g, description: g === dflt ? 'format default' : '' })), { title: `Quantize Layer: granularity (${format})`, ignoreFocusOut: true }))?.label;
    if (!granularity) return undefined;
  }
  let calibration = preset.calibration;
  if (!calibration) {
    const options = [
      { label: 'minmax', description: 'full range, no clipping' }, { label: 'mse', description: 'clip range minimising squared error' },
      { label: 'percentile:99.99', description: 'clip the top 0.01%' }, { label: 'kl', description: 'KL-divergence (TensorRT-style)' },
      { label: 'mosf', description: 'median of per-channel scales folded (one tensor scale)' },
    ];
    calibration = (await vscode.window.showQuickPick(options, { title: `Quantize Layer: calibration (${format}, ${granularity})`, ignoreFocusOut: true }))?.label;
    if (!calibration) return undefined;
  }
  return { format, granularity, calibration };
}
