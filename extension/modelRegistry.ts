// SPDX-License-Identifier: Apache-2.0
/**
 * Which model is active (the focused QuantLens editor, else the last one focused) and which layer is selected,
 * so the layer tree, the panels and the commands follow focus without knowing about editors.
 */
import * as vscode from 'vscode';
import { Disposable } from './dispose';
import type { Report } from '../analysis/report';
import type { OnnxModelDocument } from './modelDocument';

export class ModelRegistry extends Disposable {
  private readonly documents = new Set<OnnxModelDocument>();
  private active: OnnxModelDocument | undefined;
  private selection = new Map<OnnxModelDocument, string | null>();
  /** Analysed reports by model path + sha256, so reopening an unchanged model keeps its analysis. */
  private readonly analyses = new Map<string, Report>();

  private readonly _onDidChangeActive = this._register(new vscode.EventEmitter<OnnxModelDocument | undefined>());
  public readonly onDidChangeActive = this._onDidChangeActive.event;
  private readonly _onDidChangeSelection = this._register(new vscode.EventEmitter<{ document: OnnxModelDocument; layer: string | null; source: string }>());
  /** A layer was selected; `source` names who selected it so views do not echo their own selection. */
  public readonly onDidChangeSelection = this._onDidChangeSelection.event;

  get activeDocument(): OnnxModelDocument | undefined { return this.active; }

  /** Every open model document. */
  get all(): readonly OnnxModelDocument[] { return [...this.documents]; }

  add(doc: OnnxModelDocument): void {
    this.documents.add(doc);
    const cached = this.analyses.get(`${doc.path}|${doc.sha256}`);
    if (cached) doc.setAnalysis(cached);
    this._register(doc.onDidChangeReport(() => { if (doc.analysed) this.analyses.set(`${doc.path}|${doc.sha256}`, doc.analysedReport!); }));
    this._register(doc.onDidDispose(() => this.remove(doc)));
  }

  setActive(doc: OnnxModelDocument | undefined): void {
    if (doc === this.active) return;
    this.active = doc;
    void vscode.commands.executeCommand('setContext', 'quantlens.modelActive', doc !== undefined);
    this._onDidChangeActive.fire(doc);
  }

  selectedLayer(doc: OnnxModelDocument | undefined = this.active): string | null {
    return doc ? this.selection.get(doc) ?? null : null;
  }

  select(doc: OnnxModelDocument, layer: string | null, source: string): void {
    this.selection.set(doc, layer);
    this._onDidChangeSelection.fire({ document: doc, layer, source });
  }

  private remove(doc: OnnxModelDocument): void {
    this.documents.delete(doc);
    this.selection.delete(doc);
    if (this.active === doc) this.setActive(this.documents.values().next().value);
  }
}
