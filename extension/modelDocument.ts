// SPDX-License-Identifier: Apache-2.0
/**
 * One opened `.onnx` file: its inspect report (structure, shapes, weight statistics: pure TypeScript, safe in
 * an untrusted workspace), the analysis merged into it once run, and its `*.quant.json` config. The model
 * file is only ever read.
 */
import * as vscode from 'vscode';
import { readFile } from 'node:fs/promises';
import { describeLayers } from '../analysis/layers';
import { loadModelBytes, type LoadedModel } from '../analysis/onnx/load';
import { newReport } from '../analysis/reportModel';
import { inferShapes } from '../analysis/shapes/infer';
import { resolveLayer, type QuantConfig } from '../analysis/config/types';
import type { Report } from '../analysis/report';
import { readConfig } from './configStore';
import { Disposable } from './dispose';
import { log, reportError } from './log';

export class OnnxModelDocument extends Disposable implements vscode.CustomDocument {
  /** Load and inspect the model (throws QuantLensError naming the file for a broken model). */
  static async create(uri: vscode.Uri): Promise<OnnxModelDocument> {
    if (uri.scheme !== 'file') throw new Error(`${uri.toString()}: QuantLens opens models on the local file system only`);
    const t0 = performance.now();
    const file = uri.fsPath;
    // read once (the model file is never written); parsing is pure TypeScript, safe without workspace trust
    const bytes = new Uint8Array(await readFile(file));
    const loaded = await loadModelBytes(bytes, file);
    const shapes = inferShapes(loaded.model, file);
    const report = newReport('inspect', loaded, shapes, describeLayers(loaded, { shapes, histogramBins: 64 }));
    report.timings = { open: performance.now() - t0 };
    log().info(`opened ${file}: ${report.layers.length} layers in ${Math.round(report.timings.open)} ms`);
    return new OnnxModelDocument(uri, bytes, loaded, report);
  }

  private _report: Report;
  private _analysed = false;
  private _analysedReport: Report | undefined;
  private _config: { path: string; config: QuantConfig } | undefined;

  private readonly _onDidDispose = this._register(new vscode.EventEmitter<void>());
  public readonly onDidDispose = this._onDidDispose.event;
  private readonly _onDidChangeReport = this._register(new vscode.EventEmitter<void>());
  /** The report changed: analysis finished, or the config changed the layers' formats. */
  public readonly onDidChangeReport = this._onDidChangeReport.event;

  private constructor(readonly uri: vscode.Uri, readonly bytes: Uint8Array, readonly loaded: LoadedModel, private readonly inspected: Report) {
    super();
    this._report = inspected;
    this.reloadConfig(false);
    const watcher = this._register(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(uri, '..'), '*.quant.json')));
    const onConfig = (): void => this.reloadConfig(true);
    this._register(watcher.onDidChange(onConfig));
    this._register(watcher.onDidCreate(onConfig));
    this._register(watcher.onDidDelete(onConfig));
  }

  get path(): string { return this.uri.fsPath; }
  get report(): Report { return this._report; }
  get analysed(): boolean { return this._analysed; }
  /** The analysis report as the worker returned it (before the config's formats are applied). */
  get analysedReport(): Report | undefined { return this._analysedReport; }
  get config(): { path: string; config: QuantConfig } | undefined { return this._config; }
  get sha256(): string { return this.inspected.model.sha256; }

  /** Layer by node name. */
  layer(name: string): Report['layers'][number] | undefined {
    return this._report.layers.find((l) => l.name === name);
  }

  /** Replace the report with an analysed one (same model), keeping the config's formats on the layers. */
  setAnalysis(report: Report): void {
    this._analysed = true;
    this._analysedReport = report;
    this._report = this.withFormats(report);
    this._onDidChangeReport.fire();
  }

  /** Re-read the config next to the model (after QuantLens or the user wrote it). */
  reloadConfig(fire = true): void {
    try {
      this._config = readConfig(this.path);
    } catch (e) {
      this._config = undefined;
      log().warn(`config next to ${this.path} is not valid: ${(e as Error).message}`);
    }
    this._report = this.withFormats(this._report);
    if (fire) this._onDidChangeReport.fire();
  }

  private withFormats(report: Report): Report {
    const cfg = this._config?.config;
    return {
      ...report,
      layers: report.layers.map((l) => {
        if (!cfg) return { ...l, format: undefined };
        const r = resolveLayer(cfg, l.name);
        const format = { ...(l.weightShape && r.weights ? { weights: r.weights.format } : {}), ...(r.activations && l.weightShape ? { activations: r.activations.format } : {}) };
        return { ...l, format: Object.keys(format).length ? format : undefined };
      }),
    };
  }

  override dispose(): void {
    this._onDidDispose.fire();
    super.dispose();
  }
}

/** Open a document, reporting a failure (the editor then shows VS Code's own error page). */
export async function openModelDocument(uri: vscode.Uri): Promise<OnnxModelDocument> {
  try {
    return await OnnxModelDocument.create(uri);
  } catch (e) {
    reportError(`cannot open ${uri.fsPath}`, e);
    throw e;
  }
}
